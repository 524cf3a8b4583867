package io.headfuse.uptrain.train;

import ai.djl.pytorch.jni.JniUtils;

/** Autograd off for a block (torch.no_grad()), restoring the previous mode on close. */
public final class NoGrad implements AutoCloseable {
    private final boolean previous;

    public NoGrad() {
        previous = JniUtils.isGradMode();
        JniUtils.setGradMode(false);
    }

    @Override public void close() { JniUtils.setGradMode(previous); }
}
