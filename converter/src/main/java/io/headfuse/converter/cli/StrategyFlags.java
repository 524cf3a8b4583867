package io.headfuse.converter.cli;

import io.headfuse.fusion.StrategyOptions;
import java.util.List;
import org.apache.commons.cli.CommandLine;
import org.apache.commons.cli.Option;

/**
 * The command-line flags of one strategy and how they become its typed options. Registered in
 * {@link StrategyArgs}; a flag of another strategy is refused as a usage error there.
 */
interface StrategyFlags {
    /** The {@code --strategy} name. */
    String strategy();

    /** One line for the help of {@code --strategy}. */
    String description();

    /** True when the strategy runs the model on {@code --calib} text (then {@code --calib} is required). */
    default boolean calibrated() { return false; }

    /** Its own flags (beside {@code --calib} and {@code --calib-tokens}). */
    List<Option> options();

    /** The validated options from the given flags; a bad or conflicting value is a {@link UsageException}. */
    StrategyOptions parse(CommandLine cl) throws UsageException;
}
