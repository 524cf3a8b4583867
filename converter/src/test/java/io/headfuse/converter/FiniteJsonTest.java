package io.headfuse.converter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** JSON reports never hold "Infinity" or "NaN": null plus a note naming the fields. */
class FiniteJsonTest {
    @Test void nonFiniteNumbersBecomeNullWithANote() throws Exception {
        Map<String, Object> file = new LinkedHashMap<>();
        file.put("ppl", Double.POSITIVE_INFINITY);
        file.put("tokens", 1L);
        Map<String, Object> doc = new LinkedHashMap<>();
        doc.put("ppl", Double.NaN);
        doc.put("nll", 3.5);
        doc.put("files", Map.of("a.txt", file));
        doc.put("list", List.of(1.0, Float.NEGATIVE_INFINITY));
        String json = new ObjectMapper().writeValueAsString(FiniteJson.of(doc));
        assertFalse(json.contains("Infinity") || json.contains("NaN"), json);
        assertEquals("{\"ppl\":null,\"nll\":3.5,\"files\":{\"a.txt\":{\"ppl\":null,\"tokens\":1}},\"list\":[1.0,null],"
                + "\"note\":\"not a finite number (e.g. too few tokens, or an overflow), written as null: ppl, files.a.txt.ppl, list[1]\"}", json);
        Map<String, Object> finite = Map.of("a", 1.0, "b", 2, "c", "x");
        assertEquals(finite, FiniteJson.of(finite), "finite documents pass unchanged, without a note");
    }

    @Test void conversionReportDetailsStayStrictJson() {
        io.headfuse.fusion.LayerPlan lp = new io.headfuse.fusion.LayerPlan(0, new int[][] {{0, 1}}, new int[][] {{0, 1}}, 0);
        io.headfuse.fusion.FusionPlan plan = new io.headfuse.fusion.FusionPlan("asym", 2, 1, List.of(lp),
                Map.of("layers", List.of(Map.of("k_error", Double.NaN, "v_error", 0.25))));
        ConversionReport r = new ConversionReport(java.nio.file.Path.of("in"), "hf-safetensors", java.nio.file.Path.of("out"), plan, 2, 1,
                io.headfuse.formats.DType.BF16, io.headfuse.formats.DType.BF16, 512, 256, 1, true, new TokenizerFiles(List.of("tokenizer.json")), 1.5);
        String json = r.toJsonString();
        assertFalse(json.contains("NaN"), json);
        assertEquals("not a finite number (e.g. too few tokens, or an overflow), written as null: layers[0].k_error",
                r.toJson().get("details").get("note").asText());
        assertEquals(0.25, r.toJson().get("details").get("layers").get(0).get("v_error").asDouble());
    }
}
