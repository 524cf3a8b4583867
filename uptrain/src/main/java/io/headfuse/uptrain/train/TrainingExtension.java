package io.headfuse.uptrain.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import java.util.List;
import java.util.Set;

/**
 * What a training method adds to the {@link Trainer}'s loop without a loop of its own: parameters that live
 * outside the student's weights, student weights it computes itself from them (which then do not train
 * directly), a loss term beside the distillation loss, and a hook after every optimiser step. DHA's learned
 * fusion is one: fusion operators as parameters, the K/V projections derived from them, the augmented-Lagrangian
 * fusion loss, and the multiplier ascent.
 */
public interface TrainingExtension {
    TrainingExtension NONE = new TrainingExtension() {};

    /** A trainable array the student does not own, with its learning-rate multiplier (relative to the recipe's). */
    record Parameter(String name, NDArray value, double lrScale) {}

    /** Names of student parameters this extension derives (they are left out of the optimiser). */
    default Set<String> derived() { return Set.of(); }

    /** The extension's own trainable arrays (the trainer marks them and gives them AdamW moments). */
    default List<Parameter> parameters() { return List.of(); }

    /** The extra loss of one micro-batch, with gradients (in {@code step}'s manager), or null for none. */
    default NDArray loss(NDManager step) { return null; }

    /** Called after optimiser step {@code step} (1-based), which brought the tokens seen to {@code tokens}. */
    default void stepped(int step, long tokens) {}
}
