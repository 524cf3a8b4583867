package io.headfuse.formats.safetensors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.headfuse.testkit.Assets;
import io.headfuse.formats.CheckpointException;
import io.headfuse.formats.DType;
import io.headfuse.formats.LlamaConfig;
import io.headfuse.formats.LlamaShapes;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class HfCheckpointTest {
    @TempDir Path tmp;

    @Test
    void opensShardedBf16Checkpoint() throws IOException {
        HfCheckpoint c = HfCheckpoint.open(Assets.model("headfuse-mha-s"));
        assertEquals(2, c.files().size());
        LlamaConfig cfg = c.config();
        assertEquals(256, cfg.hiddenSize());
        assertEquals(8, cfg.numHeads());
        assertEquals(8, cfg.numKvHeads());
        assertEquals(32, cfg.headDim());
        assertEquals(10000.0, cfg.ropeTheta());
        assertEquals(DType.BF16, c.storedDtype());
        assertEquals(7_358_720L, c.parameterCount());
        LlamaShapes.validate(c);
        assertTrue(c.sideFiles().stream().anyMatch(p -> p.getFileName().toString().equals("tokenizer.json")));
    }

    @Test
    void configRoundTripKeepsUnknownKeys() throws IOException {
        LlamaConfig c = LlamaConfig.read(Assets.model("headfuse-mha-s").resolve("config.json"));
        LlamaConfig d = c.withKvHeads(2);
        assertEquals(2, d.numKvHeads());
        assertEquals(c.json().get("rope_parameters"), d.json().get("rope_parameters"));
        assertEquals(c.json().get("transformers_version"), d.json().get("transformers_version"));
        assertEquals(c.json().size(), d.json().size());
        LlamaConfig e = LlamaConfig.fromJson((com.fasterxml.jackson.databind.node.ObjectNode) LlamaConfig.JSON.readTree(d.toJsonString()));
        assertEquals(d.json(), e.json());
        LlamaConfig old = LlamaConfig.read(Assets.model("stories260K-mha-hf").resolve("config.json"));
        assertEquals(DType.F32, old.dtype());
        assertEquals("bfloat16", old.withDtype(DType.BF16).json().get("torch_dtype").asText());
    }

    private Path copyOf(String model) throws IOException {
        Path src = Assets.model(model);
        Path dst = tmp.resolve(model);
        Files.createDirectories(dst);
        try (var s = Files.list(src)) {
            for (Path p : s.toList()) Files.copy(p, dst.resolve(p.getFileName()), StandardCopyOption.COPY_ATTRIBUTES);
        }
        return dst;
    }

    @Test
    void missingShardIsNamed() throws IOException {
        Path d = copyOf("headfuse-mha-s");
        Files.delete(d.resolve("model-00002-of-00002.safetensors"));
        CheckpointException e = assertThrows(CheckpointException.class, () -> HfCheckpoint.open(d));
        assertTrue(e.getMessage().contains("missing shard model-00002-of-00002.safetensors"), e.getMessage());
        assertTrue(e.getMessage().startsWith(d.resolve(HfCheckpoint.INDEX).toString()), e.getMessage());
    }

    @Test
    void badConfigAndIndexAreNamed() throws IOException {
        Path d = copyOf("headfuse-mha-s");
        Files.writeString(d.resolve(HfCheckpoint.INDEX), "{\"weight_map\": {\"x\": \"../../etc/passwd\"}}");
        assertTrue(assertThrows(CheckpointException.class, () -> HfCheckpoint.open(d)).getMessage().contains("invalid shard name"));
        Files.writeString(d.resolve("config.json"), "{\"hidden_size\": 256,");
        CheckpointException e = assertThrows(CheckpointException.class, () -> HfCheckpoint.open(d));
        assertTrue(e.getMessage().startsWith(d.resolve("config.json").toString()) && e.getMessage().contains("not valid JSON"), e.getMessage());
        Files.writeString(d.resolve("config.json"), "{\"hidden_size\": 256, \"num_attention_heads\": 8, \"num_key_value_heads\": 3}");
        assertTrue(assertThrows(CheckpointException.class, () -> HfCheckpoint.open(d)).getMessage().contains("does not divide"));
    }
}
