package io.headfuse.uptrain.model;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;

/**
 * Keys (after RoPE) and values of the positions seen so far, per layer, for incremental decoding. Stored per kv
 * head ([B, kvHeads, capacity, headDim]); the query-head gather happens at attention time, so a GQA model's cache
 * is as small as its kv heads. Owns its arrays in its own manager: close it when the sequence is done.
 *
 * <p>Each layer's buffer is allocated once, at the first step, with room for {@code capacity} positions (its kv
 * head count taken from that step's keys, so layers may differ), and every step writes its keys and values into
 * it in place ({@code NDArray.set} on a slice, PyTorch's {@code copy_}); attention reads the filled prefix as a
 * view. So a step copies only its own tokens, not the whole past (concatenating every step would copy O(T^2)
 * over a sequence). A step past the capacity doubles the buffer: one copy, amortized O(1) per token.
 */
public final class KvCache implements AutoCloseable {
    /** Starting capacity when the caller does not know the final length. */
    static final int DEFAULT_CAPACITY = 256;

    private final NDManager manager;
    private final NDArray[] keys;
    private final NDArray[] values;
    private int capacity;
    private int length;

    KvCache(NDManager parent, int layers, int capacity) {
        if (capacity < 1) throw new IllegalArgumentException("kv cache capacity must be positive, got " + capacity);
        this.manager = parent.newSubManager();
        this.keys = new NDArray[layers];
        this.values = new NDArray[layers];
        this.capacity = capacity;
    }

    /** Positions cached so far (the position of the next token). */
    public int length() { return length; }

    /** Positions the buffers hold without growing. */
    public int capacity() { return capacity; }

    /** Bytes of the cache's buffers as allocated (all layers, K and V, the whole capacity). */
    public long allocatedBytes() {
        long n = 0;
        for (NDArray[] side : new NDArray[][] {keys, values})
            for (NDArray a : side) if (a != null) n += a.getShape().size() * a.getDataType().getNumOfBytes();
        return n;
    }

    /**
     * Writes this step's keys/values for {@code layer} after the cached positions and returns views of the filled
     * [B, kvHeads, S, headDim] prefix, attached to the step's manager (the views are freed with the step; the
     * buffers stay in the cache).
     */
    NDArray[] append(int layer, NDArray k, NDArray v, NDManager step) {
        int t = (int) k.getShape().get(2);
        if (length + t > capacity) grow(Math.max(length + t, 2 * capacity));
        keys[layer] = write(keys[layer], k);
        values[layer] = write(values[layer], v);
        NDIndex filled = new NDIndex(":, :, :{}", length + t);
        return new NDArray[] {keys[layer].get(step, filled), values[layer].get(step, filled)};
    }

    /**
     * Layer {@code layer}'s whole buffers, with room for {@code t} more positions (allocated as [b, kvHeads,
     * capacity, headDim] fp32 at the first step, grown as {@link #append} grows them), for a caller that writes
     * the step itself (the fused decode layer); the positions count once {@link #advance} is called.
     */
    NDArray[] reserve(int layer, long b, int kvHeads, int headDim, int t, Device device) {
        if (length + t > capacity) grow(Math.max(length + t, 2 * capacity));
        Shape s = new Shape(b, kvHeads, capacity, headDim);
        if (keys[layer] == null) keys[layer] = manager.zeros(s, DataType.FLOAT32, device);
        if (values[layer] == null) values[layer] = manager.zeros(s, DataType.FLOAT32, device);
        return new NDArray[] {keys[layer], values[layer]};
    }

    private NDArray write(NDArray buffer, NDArray step) {
        if (buffer == null) {
            Shape s = step.getShape();
            buffer = manager.zeros(new Shape(s.get(0), s.get(1), capacity, s.get(3)), step.getDataType(), step.getDevice());
        }
        buffer.set(new NDIndex(":, :, {}:{}", length, length + step.getShape().get(2)), step);
        return buffer;
    }

    /** Reallocates every layer's buffers with room for {@code n} positions, keeping the filled prefix. */
    private void grow(int n) {
        for (NDArray[] side : new NDArray[][] {keys, values})
            for (int l = 0; l < side.length; l++) {
                NDArray old = side[l];
                if (old == null) continue;
                Shape s = old.getShape();
                NDArray bigger = manager.zeros(new Shape(s.get(0), s.get(1), n, s.get(3)), old.getDataType(), old.getDevice());
                if (length > 0) {
                    NDArray filled = old.get(new NDIndex(":, :, :{}", length));
                    bigger.set(new NDIndex(":, :, :{}", length), filled);
                    filled.close();
                }
                old.close();
                side[l] = bigger;
            }
        capacity = n;
    }

    /** Called by the model after every layer has appended a step of {@code t} tokens. */
    void advance(int t) { length += t; }

    @Override public void close() { manager.close(); }
}
