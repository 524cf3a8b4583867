package io.headfuse.formats;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/** Conversions between stored floating-point encodings and Java floats (all little-endian, as safetensors stores). */
public final class Floats {
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort I16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfDouble F64 = ValueLayout.JAVA_DOUBLE_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private Floats() {}

    public static float bf16ToFloat(short bits) { return Float.intBitsToFloat((bits & 0xffff) << 16); }

    /** Rounds to nearest even, as torch does; NaN stays NaN. */
    public static short floatToBf16(float f) {
        int bits = Float.floatToRawIntBits(f);
        if (Float.isNaN(f)) return (short) ((bits >>> 16) | 0x40);
        int rounding = 0x7fff + ((bits >>> 16) & 1);
        return (short) ((bits + rounding) >>> 16);
    }

    /** Widens {@code count} elements of {@code src} (stored as {@code type}) starting at element {@code from}. */
    public static float[] read(MemorySegment src, DType type, long from, int count) {
        float[] out = new float[count];
        long base = from * type.size();
        switch (type) {
            case F32 -> MemorySegment.copy(src, F32, base, out, 0, count);
            case BF16 -> {
                // bulk copy then a plain loop over arrays: the JIT vectorises it, per-element segment reads it does not
                short[] raw = new short[count];
                MemorySegment.copy(src, I16, base, raw, 0, count);
                for (int i = 0; i < count; i++) out[i] = Float.intBitsToFloat(raw[i] << 16);
            }
            case F16 -> {
                short[] raw = new short[count];
                MemorySegment.copy(src, I16, base, raw, 0, count);
                for (int i = 0; i < count; i++) out[i] = Float.float16ToFloat(raw[i]);
            }
            case F64 -> { for (int i = 0; i < count; i++) out[i] = (float) src.get(F64, base + 8L * i); }
            default -> throw new IllegalArgumentException("cannot read " + type + " as floats");
        }
        return out;
    }

    /** Narrows {@code values} into {@code dst} (stored as {@code type}) starting at element {@code from}. */
    public static void write(float[] values, int offset, int count, MemorySegment dst, DType type, long from) {
        long base = from * type.size();
        switch (type) {
            case F32 -> MemorySegment.copy(values, offset, dst, F32, base, count);
            case BF16 -> {
                short[] raw = new short[count];
                for (int i = 0; i < count; i++) raw[i] = floatToBf16(values[offset + i]);
                MemorySegment.copy(raw, 0, dst, I16, base, count);
            }
            case F16 -> {
                short[] raw = new short[count];
                for (int i = 0; i < count; i++) raw[i] = Float.floatToFloat16(values[offset + i]);
                MemorySegment.copy(raw, 0, dst, I16, base, count);
            }
            case F64 -> { for (int i = 0; i < count; i++) dst.set(F64, base + 8L * i, values[offset + i]); }
            default -> throw new IllegalArgumentException("cannot write floats as " + type);
        }
    }

    /** Encodes {@code values} as {@code type} in a new heap segment. */
    public static MemorySegment encode(float[] values, DType type) {
        MemorySegment seg = MemorySegment.ofArray(new byte[Math.multiplyExact(values.length, type.size())]);
        write(values, 0, values.length, seg, type, 0);
        return seg;
    }
}
