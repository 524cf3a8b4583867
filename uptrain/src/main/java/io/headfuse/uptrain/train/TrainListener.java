package io.headfuse.uptrain.train;

/** Hears what a {@link Trainer} does, for progress bars and logs. Every method may be left as it is. */
public interface TrainListener {
    TrainListener NONE = new TrainListener() {};

    /** Training is about to run steps {@code from} .. {@code steps - 1}. */
    default void started(int from, int steps, long tokensPerStep) {}

    /** A step finished; {@code loss} is null when this step's loss was not read back (it is read every few steps). */
    default void stepped(int step, long tokens, double lr, Double loss) {}

    /** A held-out evaluation finished. */
    default void evaluated(TrainingReport.EvalPoint point) {}

    /** A resumable state was written. */
    default void saved(java.nio.file.Path dir, int step) {}
}
