package io.headfuse.formats;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.headfuse.formats.safetensors.HfCheckpoint;
import io.headfuse.testkit.Assets;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import org.junit.jupiter.api.Test;

/**
 * {@link Floats#floatToBf16} against an independent reference: {@code stories260K-mha-hf-bf16} holds the fp32
 * weights of {@code stories260K-mha-hf} rounded to bf16 (round to nearest, ties to even) outside this project.
 * Every element of every tensor must round to the same 16 bits.
 */
class Bf16RoundingTest {
    private static final ValueLayout.OfShort I16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    @Test
    void roundingMatchesTheExternallyRoundedCheckpointBitForBit() throws Exception {
        try (Checkpoint fp32 = HfCheckpoint.open(Assets.model("stories260K-mha-hf"));
             Checkpoint bf16 = HfCheckpoint.open(Assets.model("stories260K-mha-hf-bf16"));
             Arena arena = Arena.ofConfined()) {
            assertEquals(fp32.tensors().size(), bf16.tensors().size());
            long elements = 0, inexact = 0;
            for (TensorSource t : fp32.tensors()) {
                TensorSource ref = bf16.tensor(t.name());
                assertEquals(DType.F32, t.dtype(), t.name());
                assertEquals(DType.BF16, ref.dtype(), t.name());
                assertArrayEquals(t.shape(), ref.shape(), t.name());
                float[] x = t.toFloats();
                MemorySegment expected = ref.bytes(arena);
                for (int i = 0; i < x.length; i++) {
                    short want = expected.getAtIndex(I16, i), got = Floats.floatToBf16(x[i]);
                    if (want != got) throw new AssertionError(t.name() + "[" + i + "]: " + x[i] + " rounds to 0x"
                            + Integer.toHexString(got & 0xffff) + ", reference 0x" + Integer.toHexString(want & 0xffff));
                    if ((Float.floatToRawIntBits(x[i]) & 0xffff) != 0) inexact++;
                }
                elements += x.length;
            }
            System.out.printf("bf16: %d elements of %d tensors bit-equal, %d needed rounding%n", elements, fp32.tensors().size(), inexact);
            // The check means something only if the fp32 weights really carry bits below bf16's 16.
            assertTrue(inexact > elements / 2, inexact + " of " + elements + " needed rounding");
        }
    }
}
