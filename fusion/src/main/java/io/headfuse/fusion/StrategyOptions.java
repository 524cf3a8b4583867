package io.headfuse.fusion;

/**
 * The typed, validated settings of one strategy (one record per strategy, checked in its constructor, so a bad
 * value fails before any work). {@link Strategies} builds the strategy from them. An interface rather than a
 * sealed one: a sealed type's permitted records would have to live in this package, and a new strategy (in its
 * own package) should need one record, one strategy class and one registration, not an edit here.
 */
public interface StrategyOptions {
    /** The strategy these options configure: its {@code --strategy} name. */
    String strategy();
}
