package io.headfuse.converter.cli;

import java.nio.file.Path;
import java.util.function.Function;
import org.apache.commons.cli.CommandLine;

/** Typed access to option values, turning malformed ones into usage errors. */
final class Args {
    private Args() {}

    static String required(CommandLine cl, String opt) throws UsageException {
        String v = cl.getOptionValue(opt);
        if (v == null) throw new UsageException("missing required option --" + opt);
        return v;
    }

    static Path path(CommandLine cl, String opt) throws UsageException { return Path.of(required(cl, opt)); }

    /**
     * A report file (--json, --png): its folder must exist already. headfuse creates no folder for a report, so a
     * typo cannot scatter folder trees; checked before any work.
     */
    static Path reportFile(CommandLine cl, String opt) throws java.io.IOException, UsageException {
        Path file = Path.of(required(cl, opt));
        Path parent = file.toAbsolutePath().normalize().getParent();
        if (parent != null && !java.nio.file.Files.isDirectory(parent))
            throw new java.io.IOException(file + ": folder " + parent + " does not exist (--" + opt + " creates no folders)");
        if (java.nio.file.Files.isDirectory(file)) throw new java.io.IOException(file + ": is a folder, --" + opt + " needs a file name");
        return file;
    }

    static int intValue(CommandLine cl, String opt, int dflt) throws UsageException {
        return parsed(cl, opt, dflt, Integer::parseInt, "a whole number");
    }

    static long longValue(CommandLine cl, String opt, long dflt) throws UsageException {
        return parsed(cl, opt, dflt, Long::parseLong, "a whole number");
    }

    /**
     * A count such as a token budget: a whole number, optionally in exponent form or with a k/M/G suffix
     * ({@code 400000}, {@code 4e5}, {@code 400k}, {@code 0.4M}).
     */
    static long count(CommandLine cl, String opt, long dflt) throws UsageException {
        String v = cl.getOptionValue(opt);
        if (v == null) return dflt;
        String t = v.trim();
        double scale = 1;
        char last = t.isEmpty() ? ' ' : Character.toLowerCase(t.charAt(t.length() - 1));
        if (last == 'k' || last == 'm' || last == 'g') {
            scale = last == 'k' ? 1e3 : last == 'm' ? 1e6 : 1e9;
            t = t.substring(0, t.length() - 1);
        }
        try {
            double d = Double.parseDouble(t) * scale;
            if (d < 0 || d != Math.rint(d) || d > Long.MAX_VALUE) throw new NumberFormatException();
            return (long) d;
        } catch (NumberFormatException e) {
            throw new UsageException("--" + opt + " expects a whole number (e.g. 400000, 4e5 or 400k), got '" + v + "'");
        }
    }

    static double doubleValue(CommandLine cl, String opt, double dflt) throws UsageException {
        return parsed(cl, opt, dflt, Double::parseDouble, "a number");
    }

    private static <T> T parsed(CommandLine cl, String opt, T dflt, Function<String, T> parse, String what) throws UsageException {
        String v = cl.getOptionValue(opt);
        if (v == null) return dflt;
        try {
            return parse.apply(v.trim());
        } catch (NumberFormatException e) {
            throw new UsageException("--" + opt + " expects " + what + ", got '" + v + "'");
        }
    }
}
