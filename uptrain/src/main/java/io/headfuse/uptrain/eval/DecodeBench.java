package io.headfuse.uptrain.eval;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import io.headfuse.formats.LlamaConfig;
import io.headfuse.uptrain.model.DeviceMemory;
import io.headfuse.uptrain.model.ForwardTap;
import io.headfuse.uptrain.model.KvCache;
import io.headfuse.uptrain.model.LlamaModel;
import io.headfuse.uptrain.model.PeakMemory;
import java.util.OptionalLong;
import java.util.Random;

/**
 * Batched greedy decoding with the kv cache, timed: the measurement behind {@code headfuse bench-decode}. The
 * prompts are prefilled in chunks through the cache (a whole 4096-token prompt at batch 16 would need its
 * [16, heads, 4096, 4096] attention scores several times over), then every step feeds the batch's last tokens.
 * A short untimed warm-up runs first so CUDA's lazy initialisation is not counted.
 */
public final class DecodeBench {
    /** Bound on one prefill chunk's attention scores; the chunk length follows from it. */
    static final long CHUNK_SCORE_BYTES = 2L << 30;

    private DecodeBench() {}

    /** Runs {@code o} on {@code model} (named {@code name} in the result). */
    public static DecodeResult run(String name, LlamaModel model, DecodeOptions o) {
        LlamaConfig c = model.config();
        long[][] prompts = prompts(o, c.vocabSize());
        warmUp(model, prompts);
        DeviceMemory.releaseCached(model.device());
        try (PeakMemory peak = PeakMemory.watch(model.device())) {
            int capacity = o.context() + o.newTokens();
            KvCache cache = model.newCache(capacity);
            try {
                long t0 = System.nanoTime();
                long[] next = prefill(model, cache, prompts, chunk(c, o.batch(), capacity));
                long t1 = System.nanoTime();
                int[][] out = decode(model, cache, next, o.newTokens());
                long t2 = System.nanoTime();
                peak.sample();
                long arrays = cache.allocatedBytes();
                // Measured on the device: what CUDA reports in use with the cache and without it, the allocator's
                // idle blocks returned first both times so only live tensors count.
                DeviceMemory.releaseCached(model.device());
                OptionalLong with = DeviceMemory.used(model.device());
                cache.close();
                cache = null;
                DeviceMemory.releaseCached(model.device());
                OptionalLong without = DeviceMemory.used(model.device());
                boolean onDevice = with.isPresent() && without.isPresent();
                long measured = onDevice ? with.getAsLong() - without.getAsLong() : arrays;
                return new DecodeResult(name, o.batch(), o.context(), o.newTokens(), (t1 - t0) / 1e9, (t2 - t1) / 1e9,
                        computedKvBytes(c, o.batch(), capacity), measured, onDevice ? "device" : "arrays", peak.peak(), out);
            } finally {
                if (cache != null) cache.close();
            }
        }
    }

    /** 2 (K and V) x layers x kv heads x head_dim x 4 bytes (the runtime's fp32) x sequences x positions. */
    public static long computedKvBytes(LlamaConfig c, int batch, int positions) {
        return c.kvBytesPerToken(io.headfuse.formats.DType.F32) * batch * positions;
    }

    /**
     * Greedy continuation of equal-length prompts as one batch through the cache: [batch][n] tokens. Prefills
     * in chunks of at most {@code chunk} tokens.
     */
    public static int[][] greedy(LlamaModel model, int[][] prompts, int n, int chunk) {
        long[][] p = new long[prompts.length][];
        for (int b = 0; b < p.length; b++) {
            p[b] = new long[prompts[b].length];
            for (int i = 0; i < p[b].length; i++) p[b][i] = prompts[b][i];
        }
        try (KvCache cache = model.newCache(prompts[0].length + n)) {
            return decode(model, cache, prefill(model, cache, p, chunk), n);
        }
    }

    /**
     * {@code n} greedy tokens per sequence, the first being {@code first} (from the prefill): [batch][n]. Each step's
     * tokens stay on the device and feed the next step, with no host round trip (a device read, or an upload from
     * host memory, waits for the device), so the host queues step i+1 while the device runs step i; the tokens are
     * read once, at the end.
     */
    static int[][] decode(LlamaModel model, KvCache cache, long[] first, int n) {
        int[][] out = new int[first.length][n];
        for (int b = 0; b < first.length; b++) out[b][0] = (int) first[b];
        if (n == 1) return out;
        try (NDManager tokens = model.manager().newSubManager()) {
            NDArray last = tokens.create(first, new Shape(first.length, 1));
            NDList steps = new NDList(n - 1);
            for (int i = 1; i < n; i++) {
                last = step(model, cache, last, tokens);
                steps.add(last);
            }
            long[] flat = NDArrays.concat(steps, 1).toLongArray();                  // [B, n-1]
            for (int b = 0; b < first.length; b++)
                for (int i = 1; i < n; i++) out[b][i] = (int) flat[b * (n - 1) + i - 1];
        }
        return out;
    }

    /** Feeds the prompts in chunks; returns the greedy next token of each sequence. */
    static long[] prefill(LlamaModel model, KvCache cache, long[][] prompts, int chunk) {
        int t = prompts[0].length;
        long[] next = null;
        for (int s = 0; s < t; s += chunk) {
            int e = Math.min(t, s + chunk);
            long[] flat = new long[prompts.length * (e - s)];
            for (int b = 0; b < prompts.length; b++) System.arraycopy(prompts[b], s, flat, b * (e - s), e - s);
            try (NDManager sub = model.manager().newSubManager()) {
                NDArray ids = sub.create(flat, new Shape(prompts.length, e - s));
                NDArray h = model.hidden(ids, cache, ForwardTap.NONE, model.config().numLayers());
                if (e == t) next = nextTokens(model, h).toLongArray();
            }
        }
        return next;
    }

    /** One decode step from device-resident ids [B, 1]: the next ids [B, 1], attached to {@code keep}. */
    static NDArray step(LlamaModel model, KvCache cache, NDArray last, NDManager keep) {
        try (NDManager sub = model.manager().newSubManager()) {
            last.tempAttach(sub);   // the step's intermediates go to sub (the forward pass uses the ids' manager)
            NDArray next = nextTokens(model, model.hidden(last, cache, ForwardTap.NONE, model.config().numLayers()));
            next.attach(keep);
            return next;
        }
    }

    /** Greedy token ids [B, 1] at the last position of each sequence (only that position goes through the LM head). */
    private static NDArray nextTokens(LlamaModel model, NDArray hidden) {
        return model.head(hidden.get(new NDIndex(":, -1:, :"))).argMax(-1);
    }

    /** Prefill chunk length: the whole context when its attention scores fit {@link #CHUNK_SCORE_BYTES}. */
    static int chunk(LlamaConfig c, int batch, int positions) {
        long perToken = 4L * batch * c.numHeads() * positions;
        return (int) Math.max(1, Math.min(positions, CHUNK_SCORE_BYTES / perToken));
    }

    private static long[][] prompts(DecodeOptions o, int vocab) {
        long[][] p = new long[o.batch()][o.context()];
        Random r = new Random(o.seed());
        for (int b = 0; b < o.batch(); b++)
            for (int i = 0; i < o.context(); i++)
                p[b][i] = o.prompt() == null ? r.nextInt(vocab) : o.prompt()[(int) (((long) b * o.context() + i) % o.prompt().length)];
        return p;
    }

    /** A few tokens through prefill and two decode steps, untimed. */
    private static void warmUp(LlamaModel model, long[][] prompts) {
        long[][] few = new long[prompts.length][];
        for (int b = 0; b < few.length; b++) few[b] = java.util.Arrays.copyOf(prompts[b], Math.min(8, prompts[b].length));
        try (KvCache cache = model.newCache(few[0].length + 2)) {
            decode(model, cache, prefill(model, cache, few, few[0].length), 3);
        }
    }
}
