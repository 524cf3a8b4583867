package io.headfuse.uptrain.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import java.util.Arrays;

/**
 * The additive causal mask: 0 where key position j &le; query position i, -inf above the diagonal (softmax turns
 * those into exact zeros). One square table lives in the model's manager; each forward takes the rows of its
 * query positions and the columns of the keys it attends to, as a view.
 */
final class CausalMask {
    private final NDManager manager;
    private NDArray table;
    private int size;

    CausalMask(NDManager manager, int size) {
        this.manager = manager;
        grow(size);
    }

    /** Mask [T, start+T] for queries at positions {@code start .. start+T-1} over keys {@code 0 .. start+T-1}. */
    synchronized NDArray rows(int start, int t, NDManager into) {
        int end = start + t;
        if (end > size) grow(Math.max(end, 2 * size));
        return table.get(into, new NDIndex(start + ":" + end + ", :" + end));
    }

    private void grow(int n) {
        float[] m = new float[n * n];
        for (int i = 0; i < n; i++) Arrays.fill(m, i * n + i + 1, (i + 1) * n, Float.NEGATIVE_INFINITY);
        NDArray t = manager.create(m, new Shape(n, n));
        if (table != null) table.close();
        table = t;
        size = n;
    }
}
