package io.headfuse.formats.safetensors;

import io.headfuse.formats.ComputedTensor;
import io.headfuse.formats.HeapTensor;
import io.headfuse.formats.TensorSource;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Computes the next few {@link ComputedTensor}s of a write order on a background thread, so that pooling the
 * next K/V projection overlaps the kernel copying pass-through tensors. Only computed tensors are prefetched
 * (each is one layer's projection, so the heap held ahead stays bounded); file-backed and cast tensors are
 * streamed as they are.
 */
final class Prefetcher implements AutoCloseable {
    private static final int AHEAD = 2;

    private final List<TensorSource> order;
    private final Future<?>[] futures;
    private final ExecutorService pool = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "headfuse-prefetch");
        t.setDaemon(true);
        return t;
    });
    private int submitted;

    Prefetcher(List<TensorSource> order) {
        this.order = order;
        this.futures = new Future<?>[order.size()];
    }

    /** Tensor {@code i}, materialised on the heap if it was computed ahead. */
    TensorSource get(int i) throws IOException {
        while (submitted < order.size() && submitted <= i + AHEAD) {
            TensorSource t = order.get(submitted);
            if (t instanceof ComputedTensor c) futures[submitted] = pool.submit(() -> materialise(c));
            submitted++;
        }
        if (futures[i] == null) return order.get(i);
        try {
            return (TensorSource) futures[i].get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while computing " + order.get(i).name(), e);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof IOException io) throw io;
            throw new IOException("computing " + order.get(i).name() + ": " + e.getCause().getMessage(), e.getCause());
        } finally {
            futures[i] = null;
        }
    }

    private static HeapTensor materialise(ComputedTensor c) throws IOException {
        try (Arena a = Arena.ofConfined()) {
            byte[] bytes = c.bytes(a).toArray(ValueLayout.JAVA_BYTE);
            return new HeapTensor(c.name(), c.dtype(), c.shape(), MemorySegment.ofArray(bytes));
        }
    }

    @Override public void close() { pool.shutdownNow(); }
}
