package io.headfuse.e2e;

import io.headfuse.testkit.Assets;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import com.fasterxml.jackson.databind.JsonNode;
import io.headfuse.formats.Checkpoint;
import io.headfuse.formats.Checkpoints;
import io.headfuse.formats.LlamaConfig;
import io.headfuse.uptrain.eval.EvalOptions;
import io.headfuse.uptrain.eval.Perplexity;
import io.headfuse.uptrain.eval.PerplexityResult;
import io.headfuse.uptrain.model.LlamaModel;
import io.headfuse.uptrain.tokenizer.TextTokenizer;
import io.headfuse.uptrain.tokenizer.Tokenizers;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The checkpoint that {@code convert} writes computes what the original computes when its query heads read
 * the equivalent kv heads through an index map, so both give the same perplexity; checked through the CLI.
 */
class PooledModelPerplexityTest {
    @TempDir Path tmp;

    @Test
    void convertedCheckpointMatchesTheOriginalUnderTheEquivalentKvMap() throws IOException {
        Path mha = Assets.model("stories260K-mha-hf"); // each kv head stored twice, so pooling pairs is exact
        Path text = Assets.require("text/tinystories/TinyStories-valid-sample30k.txt");
        Path gqa = tmp.resolve("gqa4");
        assertEquals(0, Cli.run("convert", "--model", mha.toString(), "--out", gqa.toString(), "--kv-heads", "4").exit());

        Path json = tmp.resolve("ppl.json");
        Cli eval = Cli.run("eval", "--model", gqa.toString(), "--data", text.toString(), "--window", "256", "--json", json.toString());
        assertEquals(0, eval.exit(), eval.err());
        JsonNode converted = LlamaConfig.JSON.readTree(json.toFile());

        PerplexityResult original;
        try (Checkpoint ckpt = Checkpoints.open(mha)) {
            int heads = ckpt.config().numHeads();
            int[][] map = new int[ckpt.config().numLayers()][heads];
            for (int[] row : map) Arrays.setAll(row, h -> 2 * (h / 2)); // query head h reads the first head of its pair
            LlamaConfig mapped = ckpt.config().withHeadMaps(map, map);
            try (LlamaModel m = LlamaModel.load(ckpt, mapped, Device.cpu()); TextTokenizer tok = Tokenizers.forModel(mha)) {
                original = Perplexity.evaluate(m, tok, Perplexity.readText(text), EvalOptions.defaults().withWindow(256));
            }
        }
        assertEquals(original.tokens(), converted.get("tokens").asLong());
        assertEquals(original.ppl(), converted.get("ppl").asDouble(), 1e-9 * original.ppl());
        assertTrue(original.ppl() > 1 && original.ppl() < 20, "stories260K on TinyStories text: " + original.ppl());
    }
}
