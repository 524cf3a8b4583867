package io.headfuse.converter.cli;

import java.io.PrintStream;
import org.apache.commons.cli.CommandLine;
import org.apache.commons.cli.Options;

/** One {@code headfuse} subcommand: its options and what it does with them. */
public interface Command {
    /** The word that selects it: {@code headfuse NAME ...}. */
    String name();

    /** A one-line description for {@code headfuse --help}. */
    String summary();

    /** Its usage line after the command name, e.g. {@code "--model DIR [--json OUT]"}. */
    String usage();

    Options options();

    /**
     * Runs it. Returns the exit code (0 done). Throw {@link UsageException} for bad arguments (exit 2) and any
     * other exception for a failure (exit 1, its message printed on one line).
     */
    int run(CommandLine cl, PrintStream out) throws Exception;
}
