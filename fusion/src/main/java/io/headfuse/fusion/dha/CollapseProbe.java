package io.headfuse.fusion.dha;

import io.headfuse.fusion.asym.Grouping;

/**
 * What collapsing one layer costs the model itself: the rise of the loss on calibration text when only
 * {@code layer}'s K heads are collapsed to groups {@code k} and its V heads to {@code v} (every other layer left
 * as it is). Implemented by the pipeline, which can run the model (converter's DhaLossProbe); the allocator treats
 * the rises of different layers as additive, a first-order view that held on headfuse-mha-m.
 */
@FunctionalInterface
public interface CollapseProbe {
    double lossIncrease(int layer, Grouping k, Grouping v) throws java.io.IOException;
}
