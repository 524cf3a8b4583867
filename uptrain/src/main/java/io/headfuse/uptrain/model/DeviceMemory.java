package io.headfuse.uptrain.model;

import ai.djl.Device;
import ai.djl.util.cuda.CudaUtils;
import java.lang.management.MemoryUsage;
import java.util.OptionalLong;

/**
 * What a device's memory holds, where it can be read. DJL's PyTorch JNI offers no view of the caching allocator
 * ({@code torch.cuda.memory_allocated} and friends are not bound), so on a GPU this reads CUDA's
 * {@code cudaMemGetInfo} through DJL's JNA binding of libcudart ({@link CudaUtils#getGpuMemory}), or through
 * {@link CudaMemInfo} where DJL's finds no library: total minus free, i.e. everything this process (and any other on that GPU) holds, allocator cache included. On the CPU,
 * and wherever libcudart cannot be loaded, it is empty: callers print "n/a".
 */
public final class DeviceMemory {
    private DeviceMemory() {}

    /** Bytes in use on {@code device} now, or empty where unknown (CPU, no libcudart). */
    public static OptionalLong used(Device device) {
        MemoryUsage u = usage(device);
        return u == null ? OptionalLong.empty() : OptionalLong.of(u.getCommitted());
    }

    /** Bytes free on {@code device} now, or empty where unknown. */
    public static OptionalLong free(Device device) {
        MemoryUsage u = usage(device);
        return u == null ? OptionalLong.empty() : OptionalLong.of(u.getMax() - u.getCommitted());
    }

    /**
     * Returns the PyTorch caching allocator's unused blocks to CUDA ({@code torch.cuda.empty_cache}), so that
     * {@link #used} counts only live tensors; nothing on the CPU.
     */
    public static void releaseCached(Device device) {
        if (device.isGpu()) ai.djl.pytorch.jni.JniUtils.emptyCudaCache();
    }

    private static MemoryUsage usage(Device device) {
        if (!device.isGpu()) return null;
        try {
            if (CudaUtils.hasCuda()) return CudaUtils.getGpuMemory(device);
        } catch (RuntimeException | LinkageError e) {
            // DJL's binding failed: try our own below
        }
        CudaMemInfo ffm = CudaMemInfo.get();
        long[] ft = ffm == null ? null : ffm.freeTotal(device.getDeviceId());
        return ft == null ? null : new MemoryUsage(-1, ft[1] - ft[0], ft[1] - ft[0], ft[1]);
    }

    /** "12.3 GiB", or "n/a" for an unknown amount. */
    public static String format(OptionalLong bytes) {
        return bytes.isPresent() ? gib(bytes.getAsLong()) : "n/a";
    }

    public static String gib(long bytes) {
        return String.format(java.util.Locale.ROOT, bytes >= 1L << 30 ? "%.2f GiB" : "%.1f MiB",
                bytes >= 1L << 30 ? bytes / (double) (1L << 30) : bytes / (double) (1L << 20));
    }
}
