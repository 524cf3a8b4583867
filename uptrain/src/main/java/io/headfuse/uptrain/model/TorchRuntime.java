package io.headfuse.uptrain.model;

import ai.djl.Device;
import ai.djl.engine.Engine;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.util.Locale;

/**
 * The one place headfuse starts DJL's PyTorch engine, so that every entry point (CLI, tests, library callers)
 * gets the same settings:
 * <ul>
 *   <li>offline: DJL never downloads native libraries; they come from the {@code pytorch-native-*} jar on the
 *       class path (CPU here, a CUDA build on the GPU machine), through DJL's standard loading;</li>
 *   <li>TF32 matmuls on GPU, on by default. DJL exposes no call for {@code torch.backends.cuda.matmul.allow_tf32},
 *       but libtorch reads {@code TORCH_ALLOW_TF32_CUBLAS_OVERRIDE} from the process environment the first time
 *       a cuBLAS matmul asks. Java cannot change its own environment, so we call libc's {@code setenv} through
 *       the FFM API before the engine loads. CPU matmuls are fp32 either way. Turn it off with
 *       {@code -Dheadfuse.tf32=false} or {@code HEADFUSE_TF32=0} (an explicitly set
 *       {@code TORCH_ALLOW_TF32_CUBLAS_OVERRIDE} is left alone).</li>
 *   <li>{@code OMP_WAIT_POLICY=PASSIVE} unless set: libtorch's OpenMP threads otherwise spin between parallel
 *       regions, and on a shared machine (CI, 2 cores and other builds) that made forward passes up to 10x
 *       slower. libgomp reads the variable when libtorch loads, so it is set the same way, just before.</li>
 * </ul>
 */
public final class TorchRuntime {
    private static volatile Engine engine;
    private static volatile boolean tf32;

    private TorchRuntime() {}

    /** Starts the engine once (idempotent) and returns it. */
    public static Engine engine() {
        Engine e = engine;
        if (e != null) return e;
        synchronized (TorchRuntime.class) {
            if (engine == null) {
                if (System.getProperty("ai.djl.offline") == null) System.setProperty("ai.djl.offline", "true");
                // DJL logs engine start-up at INFO; keep the CLI's stderr for our own progress and errors.
                quietLogger("ai.djl", "warn");
                // "Failed to detect GPU count" on every CPU-only machine, once per query.
                quietLogger("ai.djl.util.cuda.CudaUtils", "error");
                tf32 = configureTf32();
                if (System.getenv("OMP_WAIT_POLICY") == null) setenv("OMP_WAIT_POLICY", "PASSIVE");
                engine = Engine.getEngine("PyTorch");
            }
            return engine;
        }
    }

    /** Whether TF32 cuBLAS matmuls were requested for this process (they matter only on GPU). */
    public static boolean tf32() {
        engine();
        return tf32;
    }

    /**
     * Parses a device name: {@code cpu}, {@code gpu} (the first GPU), {@code gpu:N} or {@code cuda[:N]}.
     * Fails with a clear message when a GPU is asked for and the engine sees none.
     */
    public static Device device(String name) {
        String n = name.trim().toLowerCase(Locale.ROOT);
        Engine e = engine();
        if (n.equals("cpu")) return Device.cpu();
        if (n.startsWith("gpu") || n.startsWith("cuda")) {
            int colon = n.indexOf(':');
            int id = 0;
            if (colon >= 0) {
                try {
                    id = Integer.parseInt(n.substring(colon + 1));
                } catch (NumberFormatException ex) {
                    throw new IllegalArgumentException("bad device '" + name + "': expected cpu, gpu or gpu:N");
                }
            }
            if (e.getGpuCount() <= id)
                throw new IllegalArgumentException("device " + name + " requested but PyTorch sees " + e.getGpuCount()
                        + " GPU(s) (is a CUDA build of pytorch-native on the class path?)");
            return Device.gpu(id);
        }
        throw new IllegalArgumentException("bad device '" + name + "': expected cpu, gpu or gpu:N");
    }

    /** Sets an slf4j-simple log level unless the user chose one (other slf4j bindings ignore it). */
    private static void quietLogger(String name, String level) {
        String key = "org.slf4j.simpleLogger.log." + name;
        if (System.getProperty(key) == null) System.setProperty(key, level);
    }

    private static boolean configureTf32() {
        String prop = System.getProperty("headfuse.tf32");
        String env = System.getenv("HEADFUSE_TF32");
        boolean wanted = !("false".equalsIgnoreCase(prop) || "0".equals(env) || "false".equalsIgnoreCase(env));
        String current = System.getenv("TORCH_ALLOW_TF32_CUBLAS_OVERRIDE");
        if (current != null) return "1".equals(current);
        if (!wanted) return false;
        return setenv("TORCH_ALLOW_TF32_CUBLAS_OVERRIDE", "1");
    }

    /** libc {@code setenv}; false where it cannot be called (then the setting simply does not apply). */
    @SuppressWarnings("restricted")
    private static boolean setenv(String key, String value) {
        try (Arena arena = Arena.ofConfined()) {
            Linker linker = Linker.nativeLinker();
            MemorySegment fn = linker.defaultLookup().find("setenv").orElse(null);
            if (fn == null) return false;
            MethodHandle h = linker.downcallHandle(fn,
                    FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.ADDRESS, ValueLayout.JAVA_INT));
            return (int) h.invokeExact(arena.allocateFrom(key), arena.allocateFrom(value), 1) == 0;
        } catch (Throwable t) {
            return false;
        }
    }
}
