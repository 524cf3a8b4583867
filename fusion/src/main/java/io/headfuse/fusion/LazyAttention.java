package io.headfuse.fusion;

import io.headfuse.formats.Checkpoint;
import io.headfuse.formats.ComputedTensor;
import io.headfuse.formats.LlamaConfig;
import io.headfuse.formats.LlamaNames;
import io.headfuse.formats.TensorSource;
import java.io.IOException;
import java.util.Map;

/**
 * One layer's rewritten attention projections (q, k, v, o as the writer wants them), computed when the writer first
 * asks for any of the four and dropped once all four have been taken (asked again, it recomputes), so only about a
 * layer is on the heap however large the model. asym's fold and DHA's collapse both emit their layers this way.
 */
public final class LazyAttention {
    /** A rewritten layer's four projections, [rows, in] row-major. */
    public interface Projections {
        float[] q();

        float[] k();

        float[] v();

        float[] o();
    }

    /** Computes one layer's projections (called under the layer's lock, at most once per four takes). */
    @FunctionalInterface
    public interface Compute {
        Projections compute() throws IOException;
    }

    private final Compute compute;
    private Projections done;
    private int taken;

    private LazyAttention(Compute compute) { this.compute = compute; }

    /**
     * Puts layer {@code l}'s q/k/v/o into {@code out} as computed tensors of {@code in}'s dtypes: q [heads * d,
     * hidden], k [kRows, hidden], v [vRows, hidden], o [hidden, heads * d], all from one {@code compute}.
     */
    public static void put(Map<String, TensorSource> out, Checkpoint in, int l, long kRows, long vRows, Compute compute) throws IOException {
        LlamaConfig c = in.config();
        long qRows = (long) c.numHeads() * c.headDim(), hidden = c.hiddenSize();
        LazyAttention lazy = new LazyAttention(compute);
        out.put(LlamaNames.q(l), tensor(in, LlamaNames.q(l), new long[] {qRows, hidden}, () -> lazy.get().q()));
        out.put(LlamaNames.k(l), tensor(in, LlamaNames.k(l), new long[] {kRows, hidden}, () -> lazy.get().k()));
        out.put(LlamaNames.v(l), tensor(in, LlamaNames.v(l), new long[] {vRows, hidden}, () -> lazy.get().v()));
        out.put(LlamaNames.o(l), tensor(in, LlamaNames.o(l), new long[] {hidden, qRows}, () -> lazy.get().o()));
    }

    private static TensorSource tensor(Checkpoint in, String name, long[] shape, ComputedTensor.Compute compute) throws IOException {
        return new ComputedTensor(name, in.tensor(name).dtype(), shape, compute);
    }

    private synchronized Projections get() throws IOException {
        Projections p = done;
        if (p == null) p = done = compute.compute();
        if (++taken >= 4) {
            done = null;
            taken = 0;
        }
        return p;
    }
}
