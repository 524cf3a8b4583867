package io.headfuse.formats;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.Test;

/** headfuse.k_heads / v_heads: per-layer K and V head counts (DHA), their validation, shapes and KV bytes. */
class PerLayerHeadsConfigTest {
    private static LlamaConfig mha() {
        ObjectNode j = LlamaConfig.JSON.createObjectNode();
        j.put("hidden_size", 64).put("num_attention_heads", 8).put("num_key_value_heads", 8).put("num_hidden_layers", 2)
                .put("intermediate_size", 96).put("vocab_size", 32).put("torch_dtype", "float32");
        return LlamaConfig.fromJson(j);
    }

    private static final int[][] K_MAP = {{0, 0, 0, 0, 1, 1, 1, 1}, {0, 0, 0, 0, 0, 0, 0, 0}};
    private static final int[][] V_MAP = {{0, 1, 2, 0, 1, 2, 0, 1}, {0, 1, 2, 3, 4, 0, 1, 2}};

    @Test void countsShapesAndKvBytesFollowEachLayer() {
        LlamaConfig c = mha().withPerLayerHeads(2, new int[] {2, 1}, new int[] {3, 5}, K_MAP, V_MAP);
        assertTrue(c.hasPerLayerHeads());
        assertEquals(2, c.numKvHeads());
        assertEquals(2, c.kvHeads(0, false));
        assertEquals(5, c.kvHeads(1, true));
        assertArrayEquals(V_MAP[1], c.kvHeadMap(1, true));
        // (2 + 3) + (1 + 5) heads of 8 dims in fp32, summed over layers.
        assertEquals((2 + 3 + 1 + 5) * 8 * 4, c.kvBytesPerToken(DType.F32));
        assertArrayEquals(new long[] {16, 64}, LlamaShapes.expected(c).get(LlamaNames.k(0)));
        assertArrayEquals(new long[] {40, 64}, LlamaShapes.expected(c).get(LlamaNames.v(1)));
        LlamaConfig round = LlamaConfig.fromJson(LlamaConfig.JSON.valueToTree(c.json()));
        assertEquals(c.kvBytesPerToken(DType.BF16), round.kvBytesPerToken(DType.BF16));
        LlamaConfig back = c.withKvHeads(8);
        assertFalse(back.hasPerLayerHeads());
        assertFalse(back.hasHeadMaps());
    }

    @Test void rejectsInconsistentExtensions() {
        LlamaConfig c = mha().withPerLayerHeads(2, new int[] {2, 1}, new int[] {3, 5}, K_MAP, V_MAP);
        ObjectNode bad = c.json();
        ((ArrayNode) bad.get("headfuse").get("v_heads")).set(1, 4); // map of layer 1 reads V head 4
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> LlamaConfig.fromJson(bad));
        assertTrue(e.getMessage().contains("v_head_map") && e.getMessage().contains("layer 1"), e.getMessage());
        ObjectNode zero = c.json();
        ((ArrayNode) zero.get("headfuse").get("k_heads")).set(0, 0);
        assertThrows(IllegalArgumentException.class, () -> LlamaConfig.fromJson(zero));
        ObjectNode noMaps = c.json();
        ((ObjectNode) noMaps.get("headfuse")).remove("k_head_map");
        assertThrows(IllegalArgumentException.class, () -> LlamaConfig.fromJson(noMaps));
        ObjectNode short1 = c.json();
        ((ArrayNode) short1.get("headfuse").get("k_heads")).remove(1);
        assertThrows(IllegalArgumentException.class, () -> LlamaConfig.fromJson(short1));
    }
}
