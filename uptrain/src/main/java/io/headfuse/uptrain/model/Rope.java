package io.headfuse.uptrain.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;

/**
 * Rotary position embedding in HF's rotate-half layout: each head vector is split into halves (x1, x2) and
 * rotated as {@code x * cos + concat(-x2, x1) * sin}, where {@code cos} / {@code sin} repeat the
 * {@code head_dim / 2} frequencies {@code theta^(-2i/d)} twice. Meta and llama2.c checkpoints use the
 * interleaved layout; formats/ permutes their q/k rows to this one when it reads them.
 *
 * <p>The tables are computed in double and rounded once, and grow on demand past {@code max_position_embeddings}.
 */
final class Rope {
    private final NDManager manager;
    private final int headDim;
    private final double theta;
    private NDArray cos;
    private NDArray sin;
    private int positions;

    Rope(NDManager manager, int headDim, double theta, int positions) {
        this.manager = manager;
        this.headDim = headDim;
        this.theta = theta;
        grow(positions);
    }

    /** Rotates {@code x} [..., T, headDim] holding positions {@code start .. start+T-1}. */
    NDArray apply(NDArray x, int start) {
        long t = x.getShape().get(x.getShape().dimension() - 2);
        FusedKernels fused = FusedKernels.get();
        NDArray[] full = tables(start + (int) t);
        if (fused != null) return fused.rope(x, full[0], full[1], start);
        NDIndex rows = new NDIndex(start + ":" + (start + t));
        NDArray[] cs = {full[0].get(x.getManager(), rows), full[1].get(x.getManager(), rows)};
        int half = headDim / 2;
        NDArray x1 = x.get("..., :" + half);
        NDArray x2 = x.get("..., " + half + ":");
        NDArray rotated = x2.neg().concat(x1, -1);
        return x.mul(cs[0]).add(rotated.mul(cs[1]));
    }

    /** The whole cos and sin tables [positions, headDim], grown first to hold positions below {@code end}. */
    synchronized NDArray[] tables(int end) {
        if (end > positions) grow(Math.max(end, 2 * positions));
        return new NDArray[] {cos, sin};
    }

    private void grow(int n) {
        int half = headDim / 2;
        float[] c = new float[n * headDim];
        float[] s = new float[n * headDim];
        for (int i = 0; i < half; i++) {
            double invFreq = 1.0 / Math.pow(theta, (2.0 * i) / headDim);
            for (int p = 0; p < n; p++) {
                double angle = p * invFreq;
                float cv = (float) Math.cos(angle);
                float sv = (float) Math.sin(angle);
                c[p * headDim + i] = cv;
                c[p * headDim + i + half] = cv;
                s[p * headDim + i] = sv;
                s[p * headDim + i + half] = sv;
            }
        }
        NDArray newCos = manager.create(c, new Shape(n, headDim));
        NDArray newSin = manager.create(s, new Shape(n, headDim));
        if (cos != null) {
            cos.close();
            sin.close();
        }
        cos = newCos;
        sin = newSin;
        positions = n;
    }
}
