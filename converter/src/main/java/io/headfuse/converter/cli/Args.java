package io.headfuse.converter.cli;

import java.nio.file.Path;
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

    static int intValue(CommandLine cl, String opt, int dflt) throws UsageException {
        String v = cl.getOptionValue(opt);
        if (v == null) return dflt;
        try {
            return Integer.parseInt(v.trim());
        } catch (NumberFormatException e) {
            throw new UsageException("--" + opt + " expects a whole number, got '" + v + "'");
        }
    }

    static long longValue(CommandLine cl, String opt, long dflt) throws UsageException {
        String v = cl.getOptionValue(opt);
        if (v == null) return dflt;
        try {
            return Long.parseLong(v.trim());
        } catch (NumberFormatException e) {
            throw new UsageException("--" + opt + " expects a whole number, got '" + v + "'");
        }
    }

    static double doubleValue(CommandLine cl, String opt, double dflt) throws UsageException {
        String v = cl.getOptionValue(opt);
        if (v == null) return dflt;
        try {
            return Double.parseDouble(v.trim());
        } catch (NumberFormatException e) {
            throw new UsageException("--" + opt + " expects a number, got '" + v + "'");
        }
    }
}
