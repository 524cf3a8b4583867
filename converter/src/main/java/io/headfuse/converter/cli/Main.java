package io.headfuse.converter.cli;

import java.io.PrintStream;
import java.util.Arrays;
import java.util.List;
import org.apache.commons.cli.CommandLine;
import org.apache.commons.cli.DefaultParser;
import org.apache.commons.cli.HelpFormatter;
import org.apache.commons.cli.ParseException;

/** The {@code headfuse} command line. Exit codes: 0 done, 2 usage error, 1 failure (one-line reason on stderr). */
public final class Main {
    static final List<Command> COMMANDS = List.of(
            new InspectCommand(), new ConvertCommand(), new PlanCommand(),
            new EvalCommand(), new GenerateCommand(), new CompareCommand(), new UptrainCommand(), new BenchDecodeCommand());

    private Main() {}

    public static void main(String[] args) {
        System.exit(run(args, System.out, System.err));
    }

    /** Runs the CLI in-process (tests and pipelines) and returns the exit code instead of exiting. */
    public static int run(String[] args, PrintStream out, PrintStream err) {
        if (args.length == 0 || args[0].equals("--help") || args[0].equals("-h") || args[0].equals("help")) {
            printHelp(args.length == 0 ? err : out);
            return args.length == 0 ? 2 : 0;
        }
        if (args[0].equals("--version") || args[0].equals("-V")) {
            out.println("headfuse " + io.headfuse.converter.ConversionReport.VERSION);
            return 0;
        }
        Command cmd = COMMANDS.stream().filter(c -> c.name().equals(args[0])).findFirst().orElse(null);
        if (cmd == null) {
            err.println("headfuse: unknown command '" + args[0] + "'");
            printHelp(err);
            return 2;
        }
        String[] rest = Arrays.copyOfRange(args, 1, args.length);
        try {
            if (Arrays.asList(rest).contains("--help") || Arrays.asList(rest).contains("-h")) {
                printUsage(cmd, out);
                return 0;
            }
            CommandLine cl = new DefaultParser().parse(cmd.options(), rest);
            if (!cl.getArgList().isEmpty() && !acceptsPositional(cmd))
                throw new UsageException("unexpected argument '" + cl.getArgList().get(0) + "'");
            return cmd.run(cl, out);
        } catch (ParseException | UsageException e) {
            err.println("headfuse " + cmd.name() + ": " + e.getMessage());
            err.println("usage: headfuse " + cmd.name() + " " + cmd.usage() + "   (headfuse " + cmd.name() + " --help)");
            return 2;
        } catch (Exception | OutOfMemoryError e) {
            err.println("headfuse " + cmd.name() + ": " + oneLine(e));
            if (Boolean.getBoolean("headfuse.debug")) e.printStackTrace(err);
            return 1;
        }
    }

    private static boolean acceptsPositional(Command cmd) { return cmd instanceof PositionalArgs; }

    /** Marks commands that take positional arguments (e.g. {@code inspect MODEL}). */
    interface PositionalArgs {}

    static String oneLine(Throwable e) {
        String msg = e.getMessage();
        if (msg == null || msg.isBlank()) msg = e.getClass().getSimpleName();
        else if (!(e instanceof java.io.IOException) && !(e instanceof IllegalArgumentException) && !(e instanceof IllegalStateException))
            msg = e.getClass().getSimpleName() + ": " + msg;
        return msg.replace('\n', ' ');
    }

    private static void printHelp(PrintStream s) {
        s.println("headfuse: turn multi-head-attention checkpoints into grouped-query ones, and measure the result.");
        s.println();
        s.println("usage: headfuse COMMAND [options]    (headfuse COMMAND --help or -h for its options; headfuse --version)");
        s.println();
        for (Command c : COMMANDS) s.printf("  %-10s %s%n", c.name(), c.summary());
    }

    static void printUsage(Command cmd, PrintStream s) {
        java.io.PrintWriter pw = new java.io.PrintWriter(s, true);
        new HelpFormatter().printHelp(pw, 110, "headfuse " + cmd.name() + " " + cmd.usage(), cmd.summary(), cmd.options(), 2, 2, null, false);
        pw.flush();
    }
}
