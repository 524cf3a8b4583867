package io.headfuse.uptrain.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;

/**
 * Keys (after RoPE) and values of the positions seen so far, per layer, for incremental decoding. Stored per kv
 * head ([B, kvHeads, S, headDim]); the query-head gather happens at attention time, so a GQA model's cache is
 * as small as its kv heads. Owns its arrays in its own manager: close it when the sequence is done.
 */
public final class KvCache implements AutoCloseable {
    private final NDManager manager;
    private final NDArray[] keys;
    private final NDArray[] values;
    private int length;

    KvCache(NDManager parent, int layers) {
        this.manager = parent.newSubManager();
        this.keys = new NDArray[layers];
        this.values = new NDArray[layers];
    }

    /** Positions cached so far (the position of the next token). */
    public int length() { return length; }

    /**
     * Appends this step's keys/values for {@code layer} and returns the full [B, kvHeads, S, headDim] arrays,
     * temporarily attached to the step's manager: what the step derives from them is freed with the step, and
     * they themselves return to the cache when the step's manager closes (DJL's tempAttach).
     */
    NDArray[] append(int layer, NDArray k, NDArray v, NDManager step) {
        keys[layer] = extend(keys[layer], k);
        values[layer] = extend(values[layer], v);
        keys[layer].tempAttach(step);
        values[layer].tempAttach(step);
        return new NDArray[] {keys[layer], values[layer]};
    }

    private NDArray extend(NDArray old, NDArray step) {
        NDArray full = old == null ? step : old.concat(step, 2);
        full.attach(manager);
        if (old != null) old.close();
        return full;
    }

    /** Called by the model after every layer has appended a step of {@code t} tokens. */
    void advance(int t) { length += t; }

    @Override public void close() { manager.close(); }
}
