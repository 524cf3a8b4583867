package io.headfuse.uptrain.model;

import java.util.function.Predicate;

/**
 * How a model's parameters are kept on the device: fp32, or fp16 for the tensors {@code half} accepts (by HF
 * name). fp16-stored tensors are frozen weights: the forward pass widens them to fp32 where they are used (one
 * layer at a time, freed with the step), so the math stays fp32 and the device holds half the bytes. Trainable
 * parameters must stay fp32 (their gradients and optimizer state are fp32): {@link #fp16Except} keeps them so.
 *
 * @param half which parameter names are stored in fp16
 */
public record WeightStorage(Predicate<String> half) {
    public static final WeightStorage FP32 = new WeightStorage(name -> false);
    public static final WeightStorage FP16 = new WeightStorage(name -> true);

    /** fp16 for every parameter except the ones {@code trainable} accepts (those stay fp32). */
    public static WeightStorage fp16Except(Predicate<String> trainable) {
        return new WeightStorage(trainable.negate());
    }

    public boolean isHalf(String name) { return half.test(name); }
}
