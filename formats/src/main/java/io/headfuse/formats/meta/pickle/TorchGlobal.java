package io.headfuse.formats.meta.pickle;

import io.headfuse.formats.DType;
import java.util.Arrays;
import java.util.stream.Collectors;

/**
 * The only globals a checkpoint pickle may name. A pickle's GLOBAL opcode can name any importable callable
 * ({@code os.system}, {@code builtins.eval}); Python's unpickler would call it on REDUCE. We resolve names
 * against this list instead, so nothing outside it can even be referred to, let alone run.
 */
public enum TorchGlobal {
    ORDERED_DICT("collections", "OrderedDict", null),
    REBUILD_TENSOR_V2("torch._utils", "_rebuild_tensor_v2", null),
    REBUILD_PARAMETER("torch._utils", "_rebuild_parameter", null),
    // Storage classes are type tags inside persistent ids: they are never called.
    FLOAT_STORAGE("torch", "FloatStorage", DType.F32),
    HALF_STORAGE("torch", "HalfStorage", DType.F16),
    BFLOAT16_STORAGE("torch", "BFloat16Storage", DType.BF16),
    DOUBLE_STORAGE("torch", "DoubleStorage", DType.F64),
    LONG_STORAGE("torch", "LongStorage", DType.I64),
    INT_STORAGE("torch", "IntStorage", DType.I32),
    BYTE_STORAGE("torch", "ByteStorage", DType.U8);

    private final String module;
    private final String name;
    private final DType storageType;

    TorchGlobal(String module, String name, DType storageType) {
        this.module = module;
        this.name = name;
        this.storageType = storageType;
    }

    /** {@code module.name}, as Python spells it. */
    public String qualifiedName() { return module + "." + name; }

    /** The element type of a storage class; null for the callables. */
    public DType storageType() { return storageType; }

    public boolean isStorage() { return storageType != null; }

    /** The allowed global of that name, or null. */
    public static TorchGlobal lookup(String module, String name) {
        for (TorchGlobal g : values()) if (g.module.equals(module) && g.name.equals(name)) return g;
        return null;
    }

    /** The whitelist, for error messages. */
    public static String allowedList() {
        return Arrays.stream(values()).map(TorchGlobal::qualifiedName).collect(Collectors.joining(", "));
    }

    @Override public String toString() { return qualifiedName(); }
}
