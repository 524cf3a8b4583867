package io.headfuse.converter.cli;

import io.headfuse.fusion.MeanOptions;
import io.headfuse.fusion.StrategyOptions;
import java.util.List;
import org.apache.commons.cli.CommandLine;
import org.apache.commons.cli.Option;

/** {@code --strategy mean}: no flags of its own. */
final class MeanFlags implements StrategyFlags {
    @Override public String strategy() { return MeanOptions.NAME; }
    @Override public String description() { return "mean: the GQA paper's mean-pooling of contiguous groups (default)"; }
    @Override public List<Option> options() { return List.of(); }
    @Override public StrategyOptions parse(CommandLine cl) { return new MeanOptions(); }
}
