package io.headfuse.uptrain.model;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;

/**
 * {@code cudaMemGetInfo} through the FFM API, for when DJL's own binding finds no {@code libcudart.so} (pip's
 * torch ships it only under a versioned name such as {@code libcudart.so.12}, inside its wheel). dlopen by soname
 * returns the copy libtorch already loaded, so no second runtime is started. {@code HEADFUSE_CUDART} names the
 * library when none of the usual names is found. Absent (null) where no CUDA runtime can be opened.
 */
final class CudaMemInfo {
    private static final String[] NAMES = {"libcudart.so", "libcudart.so.13", "libcudart.so.12", "libcudart.so.11.0"};
    private static final CudaMemInfo INSTANCE = open();

    private final MethodHandle setDevice;
    private final MethodHandle memGetInfo;

    private CudaMemInfo(MethodHandle setDevice, MethodHandle memGetInfo) {
        this.setDevice = setDevice;
        this.memGetInfo = memGetInfo;
    }

    /** The binding, or null where no CUDA runtime library can be opened. */
    static CudaMemInfo get() { return INSTANCE; }

    /** {free, total} bytes of GPU {@code id}, or null when the call fails. */
    long[] freeTotal(int id) {
        try (Arena arena = Arena.ofConfined()) {
            if ((int) setDevice.invokeExact(id) != 0) return null;
            MemorySegment free = arena.allocate(ValueLayout.JAVA_LONG), total = arena.allocate(ValueLayout.JAVA_LONG);
            if ((int) memGetInfo.invokeExact(free, total) != 0) return null;
            return new long[] {free.get(ValueLayout.JAVA_LONG, 0), total.get(ValueLayout.JAVA_LONG, 0)};
        } catch (Throwable t) {
            return null;
        }
    }

    @SuppressWarnings("restricted")
    private static CudaMemInfo open() {
        String override = System.getenv("HEADFUSE_CUDART");
        String[] names = override == null ? NAMES : new String[] {override};
        Linker linker = Linker.nativeLinker();
        for (String name : names) {
            try {
                SymbolLookup lib = SymbolLookup.libraryLookup(name, Arena.global());
                MethodHandle set = linker.downcallHandle(lib.find("cudaSetDevice").orElseThrow(),
                        FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));
                MethodHandle info = linker.downcallHandle(lib.find("cudaMemGetInfo").orElseThrow(),
                        FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.ADDRESS));
                return new CudaMemInfo(set, info);
            } catch (RuntimeException | LinkageError e) {
                // not this name; try the next
            }
        }
        return null;
    }
}
