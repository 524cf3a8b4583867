package io.headfuse.uptrain.train;

import ai.djl.Device;
import io.headfuse.formats.Checkpoint;
import io.headfuse.formats.Checkpoints;
import io.headfuse.formats.LlamaConfig;
import io.headfuse.testkit.Assets;
import io.headfuse.uptrain.model.LlamaModel;
import io.headfuse.uptrain.tokenizer.TextTokenizer;
import io.headfuse.uptrain.tokenizer.Tokenizers;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Teachers and students for trainer tests, without the fusion module: a real model as the teacher, and the same
 * checkpoint run as a crude GQA student in which each pair of query heads reads the first head's K and V (the
 * second head's K/V rows go unused). The student's outputs differ from the teacher's, so there is something to
 * learn, and the whole model is real.
 */
final class Students {
    private Students() {}

    static LlamaModel teacher(String model) throws IOException {
        return LlamaModel.load(Assets.model(model), Device.cpu());
    }

    /** {@code model} with query head i reading kv head {@code i - i % 2}, for K and V, in every layer. */
    static LlamaModel pairedStudent(String model) throws IOException {
        try (Checkpoint ckpt = Checkpoints.open(Assets.model(model))) {
            LlamaConfig c = ckpt.config();
            int[][] map = new int[c.numLayers()][c.numHeads()];
            for (int[] row : map) for (int i = 0; i < row.length; i++) row[i] = i - i % 2;
            return LlamaModel.load(ckpt, c.withHeadMaps(map, map), Device.cpu());
        }
    }

    /** The first {@code bytes} of moby-dick, as training text in {@code dir}. */
    static Path text(Path dir, int bytes) throws IOException {
        String s = Files.readString(Assets.text("moby-dick/moby-dick.txt"), StandardCharsets.UTF_8);
        Path f = dir.resolve("moby-head.txt");
        Files.writeString(f, s.substring(0, Math.min(bytes, s.length())), StandardCharsets.UTF_8);
        return f;
    }

    static TrainingData data(String model, Path text, int seq) throws IOException {
        try (TextTokenizer tok = Tokenizers.forModel(Assets.model(model))) {
            return TrainingData.load(tok, List.of(text), 0.02, seq);
        }
    }
}
