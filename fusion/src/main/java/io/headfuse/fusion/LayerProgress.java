package io.headfuse.fusion;

/**
 * Told as a strategy's {@link FusionStrategy#plan} finishes each decoder layer: on a 7B model the head statistics
 * and group search take minutes, and the pipeline turns these calls into a progress bar (or log lines).
 */
@FunctionalInterface
public interface LayerProgress {
    /** Layer {@code layer} (0-based) of {@code layers} is planned. */
    void planned(int layer, int layers);

    LayerProgress NONE = (layer, layers) -> {};
}
