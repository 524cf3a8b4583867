package io.headfuse.uptrain.model;

import ai.djl.ndarray.NDManager;

/**
 * Rewrites a layer's weights on the fly, inside every forward pass, before the layer uses them: the stored arrays
 * stay as loaded, and whatever the transform computes lives in the step's manager (and is part of the autograd
 * graph while training). DHA's learned fusion derives each K/V projection from trainable fusion operators this way.
 */
@FunctionalInterface
public interface LayerTransform {
    LayerTransform NONE = (layer, stored, step) -> stored;

    /** The weights layer {@code layer} computes with; new arrays must be attached to {@code step}. */
    LayerWeights apply(int layer, LayerWeights stored, NDManager step);
}
