package io.headfuse.uptrain.model;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.engine.PtNDManager;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

/**
 * libtorch's fused operators that DJL's JNI does not expose, from headfuse's own small native library
 * ({@code uptrain/src/main/native/headfuse_torch.cpp}, {@code libheadfuse_torch.so}), called through the FFM API
 * on DJL's tensor handles:
 * <ul>
 *   <li>{@code scaled_dot_product_attention}: causal attention without materialising the [B, heads, T, T] scores
 *       (on a GPU, in fp32, the memory-efficient kernel); built from primitives, every layer writes and reads those
 *       scores several times forwards and backwards, which is most of a small model's step;</li>
 *   <li>{@code rms_norm}, {@code silu(gate) * up} and RoPE: one native call each instead of three to nine DJL
 *       operators (each DJL operator costs a JNI call, a Java object and its bookkeeping, which at decoding's tiny
 *       shapes is more than the kernel);</li>
 *   <li>grouped attention over a KV cache: the decode step's attention in one call, reading each kv head once;</li>
 *   <li>a whole decoder layer of a decode step (one position, inference): about thirty DJL and FFM calls become
 *       one, which at decoding's small shapes are a large part of a GQA model's step;</li>
 *   <li>a matmul that reads a frozen fp16 weight as fp16 (inference and the frozen teacher with
 *       {@link WeightStorage#FP16}): half the bytes of the widened fp32 weight, which decoding reads every step;</li>
 *   <li>the optimiser step: global-norm clip with {@code _foreach_norm} and {@code _foreach_mul_}, then
 *       {@code _fused_adamw_} (torch.optim.AdamW(fused=True)), then {@code _foreach_zero_}: a handful of kernel
 *       launches and one FFM call per step instead of about twelve JNI calls per parameter.</li>
 * </ul>
 * The math is the same as the primitive paths (LlamaModel and AdamW keep those, and use them whenever this library
 * is absent); results differ only by float rounding. The library must be compiled against the very libtorch that
 * DJL loaded (libtorch has no stable C++ ABI), so it is optional and never shipped: {@code bench/gpu-env.sh}
 * builds it on the GPU machine. It is found through {@code HEADFUSE_TORCH_KERNELS} (a path, or {@code off}) or
 * {@code -Dheadfuse.kernels}, else as {@code libheadfuse_torch.so} in {@code PYTORCH_LIBRARY_PATH}; a library built
 * for another libtorch version is refused with a warning.
 */
public final class FusedKernels {
    private static final String LIBRARY = "libheadfuse_torch.so";
    private static volatile FusedKernels instance;
    private static volatile boolean resolved;
    private static volatile boolean enabled = true;
    /** Whether decode steps use the one-call layer ({@code HEADFUSE_DECODE_LAYER=off} or -Dheadfuse.decodeLayer=off: per operator). */
    private static volatile boolean decodeLayerEnabled = !"off".equalsIgnoreCase(
            System.getProperty("headfuse.decodeLayer", System.getenv().getOrDefault("HEADFUSE_DECODE_LAYER", "on")));

    private final Path path;
    private final MethodHandle sdpa;
    private final MethodHandle groupedAttention;
    private final MethodHandle rope;
    private final MethodHandle linearHalf;
    private final MethodHandle rmsNorm;
    private final MethodHandle siluMul;
    private final MethodHandle clipAdamW;
    private final MethodHandle decodeLayer;
    private final MethodHandle lastError;

    private FusedKernels(Path path, SymbolLookup lib) {
        Linker linker = Linker.nativeLinker();
        ValueLayout l = ValueLayout.JAVA_LONG;
        ValueLayout d = ValueLayout.JAVA_DOUBLE;
        ValueLayout i = ValueLayout.JAVA_INT;
        ValueLayout a = ValueLayout.ADDRESS;
        this.path = path;
        this.sdpa = handle(linker, lib, "hf_sdpa", FunctionDescriptor.of(l, l, l, l, i, d));
        this.groupedAttention = handle(linker, lib, "hf_grouped_attention", FunctionDescriptor.of(l, l, l, l, l, d));
        this.rope = handle(linker, lib, "hf_rope", FunctionDescriptor.of(l, l, l, l, l));
        this.linearHalf = handle(linker, lib, "hf_linear_half", FunctionDescriptor.of(l, l, l, l));
        this.rmsNorm = handle(linker, lib, "hf_rms_norm", FunctionDescriptor.of(l, l, l, d));
        this.siluMul = handle(linker, lib, "hf_silu_mul", FunctionDescriptor.of(l, l, l));
        this.clipAdamW = handle(linker, lib, "hf_clip_adamw", FunctionDescriptor.of(l, a, a, a, a, i, d, l, d, d, d, d));
        this.decodeLayer = handle(linker, lib, "hf_decode_layer", FunctionDescriptor.of(l, l, a, l, l, l, l, l, i, d, d));
        this.lastError = handle(linker, lib, "hf_last_error", FunctionDescriptor.of(a));
    }

    /** The kernels when the library is present, built for the loaded libtorch, and not switched off; else null. */
    public static FusedKernels get() {
        if (!enabled) return null;
        if (!resolved) {
            synchronized (FusedKernels.class) {
                if (!resolved) {
                    instance = open();
                    resolved = true;
                }
            }
        }
        return instance;
    }

    /**
     * Turns the fused kernels off (or back on) for this process: comparisons of the two paths and benchmarks of
     * the primitive one. Affects models and trainers from their next operation on.
     */
    public static void setEnabled(boolean on) { enabled = on; }

    /** Turns the one-call decode layer off (or back on): decode steps then run operator by operator, as before it. */
    public static void setDecodeLayerEnabled(boolean on) { decodeLayerEnabled = on; }

    /** Whether decode steps run each layer in one call (see {@link #decodeLayer}). */
    public boolean decodeLayerEnabled() { return decodeLayerEnabled; }

    /** A line for logs and reports: which library is in use, or why none is. */
    public static String describe() {
        FusedKernels k = get();
        if (k != null) return "fused kernels: " + k.path;
        return enabled ? "fused kernels: none (primitive operators)" : "fused kernels: off";
    }

    /** Attention of q [B, H, T, d] over k, v [B, H, S, d] (causal when asked), softmax scale {@code scale}. */
    public NDArray attention(NDArray q, NDArray k, NDArray v, boolean causal, float scale) {
        return result(q.getManager(), call(sdpa, h(q), h(k), h(v), causal ? 1 : 0, (double) scale));
    }

    /**
     * Attention of q [B, H, T, d] over k, v [B, kv, S, d] in contiguous groups (query head i reads kv head i / (H/kv)),
     * with an additive mask [T, S] or none: reads each kv head once (decoding from a cache).
     */
    public NDArray groupedAttention(NDArray q, NDArray k, NDArray v, NDArray mask, float scale) {
        return result(q.getManager(), call(groupedAttention, h(q), h(k), h(v), mask == null ? 0L : h(mask), (double) scale));
    }

    /** Rotate-half RoPE of x [..., T, d] at positions from {@code start}, with cos/sin tables [positions, d]. */
    public NDArray rope(NDArray x, NDArray cos, NDArray sin, int start) {
        return result(x.getManager(), call(rope, h(x), h(cos), h(sin), (long) start));
    }

    /**
     * x W^T (+ bias) for fp32 x [..., in] and an fp16 weight W [out, in] read as fp16 (x rounded to fp16, fp32
     * accumulation), giving fp32: for frozen fp16 weights where no gradient flows (inference, the teacher).
     */
    public NDArray linearHalf(NDArray x, NDArray weight, NDArray bias) {
        return result(x.getManager(), call(linearHalf, h(x), h(weight), bias == null ? 0L : h(bias)));
    }

    /** HF LlamaRMSNorm of x [..., hidden] with weight [hidden]. */
    public NDArray rmsNorm(NDArray x, NDArray weight, double eps) {
        return result(x.getManager(), call(rmsNorm, h(x), h(weight), eps));
    }

    /** silu(gate) * up. */
    public NDArray siluMul(NDArray gate, NDArray up) {
        return result(gate.getManager(), call(siluMul, h(gate), h(up)));
    }

    /**
     * Clips the gradients of {@code params} to global norm {@code maxNorm} (0: no clip), takes one AdamW step
     * (1-based {@code step}, per-parameter learning rates {@code lrs}) and zeroes the gradients; returns the norm
     * before clipping, a device scalar attached to {@code m}.
     */
    public NDArray clipAndAdamW(NDManager m, List<NDArray> params, List<NDArray> expAvgs, List<NDArray> expAvgSqs, double[] lrs,
                                double maxNorm, int step, double beta1, double beta2, double eps, double weightDecay) {
        int n = params.size();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment p = handles(arena, params), mo = handles(arena, expAvgs), v = handles(arena, expAvgSqs);
            MemorySegment lr = arena.allocateFrom(ValueLayout.JAVA_DOUBLE, lrs);
            long norm = (long) clipAdamW.invokeExact(p, mo, v, lr, n, maxNorm, (long) step, beta1, beta2, eps, weightDecay);
            return result(m, check(norm));
        } catch (RuntimeException e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException("hf_clip_adamw: " + t, t);
        }
    }

    /**
     * One decoder layer of a decode step, no gradient: x [B, 1, hidden] at position {@code pos}, weights {@code w}
     * (fp32, or fp16 matrices read as fp16), the layer's cache buffers [B, kv, capacity, d] (the step's keys and
     * values are written at {@code pos}; attention reads 0..pos, query head i reading kv head i / (heads/kv)) and
     * the RoPE tables [positions, d]. The same operators in the same order as LlamaModel's layer on these kernels.
     */
    public NDArray decodeLayer(NDArray x, LayerWeights w, NDArray kCache, NDArray vCache, int pos, NDArray cos, NDArray sin,
                               int heads, double eps, float scale) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment ws = handles(arena, Arrays.asList(w.slots()));
            long out = (long) decodeLayer.invokeExact(h(x), ws, h(kCache), h(vCache), (long) pos, h(cos), h(sin), heads, eps, (double) scale);
            return result(x.getManager(), check(out));
        } catch (RuntimeException e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException("hf_decode_layer: " + t, t);
        }
    }

    /** The arrays' handles as a native int64 array, 0 for a null (an absent bias). */
    private static MemorySegment handles(Arena arena, List<NDArray> arrays) {
        long[] out = new long[arrays.size()];
        for (int i = 0; i < out.length; i++) out[i] = arrays.get(i) == null ? 0L : h(arrays.get(i));
        return arena.allocateFrom(ValueLayout.JAVA_LONG, out);
    }

    private static long h(NDArray a) { return ((PtNDArray) a).getHandle(); }

    /** Wraps a returned handle: DJL owns it from here and frees it when {@code m} (or the array) closes. */
    private static NDArray result(NDManager m, long handle) { return new PtNDArray((PtNDManager) m, handle); }

    private long call(MethodHandle mh, Object... args) {
        try {
            return check((long) mh.invokeWithArguments(args));
        } catch (RuntimeException e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(LIBRARY + ": " + t, t);
        }
    }

    private long check(long handle) {
        if (handle != 0) return handle;
        String message;
        try {
            message = ((MemorySegment) lastError.invokeExact()).reinterpret(Integer.MAX_VALUE).getString(0);
        } catch (Throwable t) {
            message = "(no message)";
        }
        int nl = message.indexOf('\n');
        throw new IllegalStateException(LIBRARY + ": " + (nl > 0 ? message.substring(0, nl) : message));
    }

    private static MethodHandle handle(Linker linker, SymbolLookup lib, String name, FunctionDescriptor fd) {
        return linker.downcallHandle(lib.find(name).orElseThrow(() -> new IllegalStateException(LIBRARY + " has no " + name)), fd);
    }

    @SuppressWarnings("restricted")
    private static FusedKernels open() {
        Path path = locate();
        if (path == null) return null;
        Engine engine = TorchRuntime.engine();   // libtorch must be loaded first: the library links against it
        try {
            SymbolLookup lib = SymbolLookup.libraryLookup(path, Arena.global());
            MethodHandle version = Linker.nativeLinker().downcallHandle(lib.find("hf_torch_version").orElseThrow(),
                    FunctionDescriptor.of(ValueLayout.ADDRESS));
            String built = ((MemorySegment) version.invokeExact()).reinterpret(64).getString(0);
            String loaded = engine.getVersion();
            if (!built.equals(loaded)) {
                System.err.println("headfuse: " + path + " was built for libtorch " + built + ", DJL loaded " + loaded
                        + "; fused kernels are off (rebuild it against the loaded libtorch)");
                return null;
            }
            return new FusedKernels(path, lib);
        } catch (Throwable t) {
            System.err.println("headfuse: cannot load fused kernels from " + path + ": " + t.getMessage() + "; using primitive operators");
            return null;
        }
    }

    private static Path locate() {
        String prop = System.getProperty("headfuse.kernels");
        String env = System.getenv("HEADFUSE_TORCH_KERNELS");
        String named = prop != null ? prop : env;
        if (named != null) {
            if (named.isBlank() || named.equalsIgnoreCase("off") || named.equals("0")) return null;
            Path p = Path.of(named);
            if (!Files.isRegularFile(p)) {
                System.err.println("headfuse: fused kernels " + p + ": no such file; using primitive operators");
                return null;
            }
            return p.toAbsolutePath();
        }
        String dir = System.getenv("PYTORCH_LIBRARY_PATH");
        if (dir == null) return null;
        Path p = Path.of(dir, LIBRARY);
        return Files.isRegularFile(p) ? p.toAbsolutePath() : null;
    }
}
