package io.headfuse.formats;

import java.util.Locale;

/** Element types of a stored tensor, named as safetensors names them. */
public enum DType {
    F64(8), F32(4), F16(2), BF16(2), I64(8), I32(4), I16(2), I8(1), U8(1), BOOL(1);

    private final int size;

    DType(int size) { this.size = size; }

    /** Bytes per element. */
    public int size() { return size; }

    /** Floating types that headfuse computes on (integer types only pass through). */
    public boolean isFloat() { return this == F64 || this == F32 || this == F16 || this == BF16; }

    /** The dtype named by a safetensors header, or null when it is none we know. */
    public static DType ofSafetensors(String name) {
        for (DType t : values()) if (t.name().equals(name)) return t;
        return null;
    }

    /** Parses a user-facing name: bf16, f16/fp16/float16, f32/fp32/float32. */
    public static DType parse(String name) {
        return switch (name.toLowerCase(Locale.ROOT)) {
            case "bf16", "bfloat16" -> BF16;
            case "f16", "fp16", "float16", "half" -> F16;
            case "f32", "fp32", "float32", "float" -> F32;
            default -> throw new IllegalArgumentException("unknown dtype '" + name + "' (expected bf16, f16 or f32)");
        };
    }

    /** The name transformers writes as torch_dtype / dtype. */
    public String torchName() {
        return switch (this) {
            case F32 -> "float32"; case F16 -> "float16"; case BF16 -> "bfloat16"; case F64 -> "float64";
            case I64 -> "int64"; case I32 -> "int32"; case I16 -> "int16"; case I8 -> "int8"; case U8 -> "uint8";
            case BOOL -> "bool";
        };
    }

    /** Inverse of {@link #torchName()}; null when unknown. */
    public static DType ofTorchName(String name) {
        if (name == null) return null;
        for (DType t : values()) if (t.torchName().equals(name)) return t;
        return null;
    }
}
