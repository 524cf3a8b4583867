package io.headfuse.e2e;

import io.headfuse.testkit.Assets;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.headfuse.formats.LlamaConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * HF output from Meta and llama2.c inputs, as transformers (5.x) expects it: the config in the current style
 * ({@code rope_parameters}, {@code dtype}), a Meta folder's {@code tokenizer.model} carried over, and for
 * llama2.c's {@code tok512.bin} a headfuse.json that says no HF tokenizer exists.
 */
class ForeignInputOutputTest {
    @TempDir Path tmp;

    private static JsonNode json(Path f) throws Exception { return LlamaConfig.JSON.readTree(f.toFile()); }

    private static List<String> keys(JsonNode n) {
        List<String> k = new java.util.ArrayList<>();
        n.fieldNames().forEachRemaining(k::add);
        return k;
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"stories260K-mha-meta", "stories260K-gqa-meta", "stories260K-mha-llama2c/stories260K-mha.bin", "stories260K/stories260K.bin"})
    void configIsInTheCurrentTransformersStyle(String input) throws Exception {
        Path out = tmp.resolve("out");
        Cli c = Cli.run("convert", "--model", Assets.model(input).toString(), "--kv-heads", "4", "--out", out.toString());
        assertEquals(0, c.exit(), c.err());
        JsonNode config = json(out.resolve("config.json"));
        assertFalse(config.has("rope_theta"), "rope_theta moved into rope_parameters: " + config);
        assertFalse(config.has("torch_dtype"), "torch_dtype is dtype now: " + config);
        assertEquals("float32", config.path("dtype").asText());
        assertEquals("default", config.path("rope_parameters").path("rope_type").asText());
        // The same numbers as the HF twin of the model (written by transformers' own converter)
        JsonNode hf = json(Assets.model("stories260K-mha-hf").resolve("config.json"));
        double theta = hf.has("rope_parameters") ? hf.path("rope_parameters").path("rope_theta").asDouble() : hf.path("rope_theta").asDouble();
        assertEquals(theta, config.path("rope_parameters").path("rope_theta").asDouble());
        for (String k : new String[] {"hidden_size", "intermediate_size", "num_hidden_layers", "num_attention_heads", "vocab_size", "tie_word_embeddings"})
            assertEquals(hf.path(k), config.path(k), k);
        assertEquals(4, config.path("num_key_value_heads").asInt());
        assertEquals(theta, LlamaConfig.read(out.resolve("config.json")).ropeTheta(), "headfuse reads its own output");
    }

    @Test
    void metaTokenizerModelIsCopied() throws Exception {
        Path meta = Cli.copyDir(Assets.model("stories260K-mha-meta"), tmp.resolve("meta"));
        // A SentencePiece model is opaque to the converter: any bytes must arrive unchanged.
        byte[] spm = new byte[4096];
        new Random(7).nextBytes(spm);
        Files.write(meta.resolve("tokenizer.model"), spm);
        Path out = tmp.resolve("out");
        Cli c = Cli.run("convert", "--model", meta.toString(), "--kv-heads", "4", "--out", out.toString());
        assertEquals(0, c.exit(), c.err());
        assertArrayEquals(spm, Files.readAllBytes(out.resolve("tokenizer.model")));
        JsonNode tok = json(out.resolve("headfuse.json")).path("output").path("tokenizer");
        assertTrue(tok.path("hf_tokenizer").asBoolean(false), tok.toString());
        assertEquals(List.of("tok512.bin", "tokenizer.model"), LlamaConfig.JSON.convertValue(tok.path("files"), List.class));
        assertFalse(tok.has("note"), tok.toString());
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"stories260K-mha-llama2c/stories260K-mha.bin", "stories260K-mha-meta"})
    void llama2cTokenizerIsReportedAsNotHf(String input) throws Exception {
        Path out = tmp.resolve("out");
        Cli c = Cli.run("convert", "--model", Assets.model(input).toString(), "--kv-heads", "2", "--out", out.toString());
        assertEquals(0, c.exit(), c.err());
        assertTrue(Files.exists(out.resolve("tok512.bin")), "llama2.c tokenizer carried for the headfuse runtime");
        JsonNode tok = json(out.resolve("headfuse.json")).path("output").path("tokenizer");
        assertEquals(List.of("tok512.bin"), LlamaConfig.JSON.convertValue(tok.path("files"), List.class));
        assertFalse(tok.path("hf_tokenizer").asBoolean(true), tok.toString());
        assertTrue(tok.path("note").asText().contains("no HF tokenizer exists"), tok.toString());
    }

    /** An HF input keeps its own key style (here transformers 5's) and reports its HF tokenizer. */
    @Test
    void hfInputKeepsItsKeysAndTokenizer() throws Exception {
        Path out = tmp.resolve("out");
        Cli c = Cli.run("convert", "--model", Assets.model("headfuse-mha-s").toString(), "--kv-heads", "4", "--out", out.toString());
        assertEquals(0, c.exit(), c.err());
        JsonNode in = json(Assets.model("headfuse-mha-s").resolve("config.json"));
        assertEquals(keys(in), keys(json(out.resolve("config.json"))));
        assertTrue(keys(in).containsAll(List.of("rope_parameters", "dtype")), keys(in).toString());
        assertTrue(json(out.resolve("headfuse.json")).path("output").path("tokenizer").path("hf_tokenizer").asBoolean(false));
    }
}
