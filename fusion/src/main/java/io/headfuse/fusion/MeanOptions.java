package io.headfuse.fusion;

/** Mean-pooling has nothing to choose: contiguous groups, plain average. */
public record MeanOptions() implements StrategyOptions {
    public static final String NAME = "mean";

    @Override public String strategy() { return NAME; }
}
