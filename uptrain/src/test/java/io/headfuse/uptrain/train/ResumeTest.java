package io.headfuse.uptrain.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.headfuse.formats.CheckpointException;
import io.headfuse.uptrain.model.LlamaModel;
import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * On the CPU the loop is a pure function of the models, the data, the recipe and the seed: the same seed gives the
 * same weights bit for bit, another seed other weights, and a run stopped after a saved state and resumed from it
 * ends with exactly the loss sequence and the weights of a run that never stopped.
 */
class ResumeTest {
    private static final int SEQ = 32, STEPS = 6;
    private static final UptrainRecipe RECIPE = UptrainRecipe.defaults((long) STEPS * SEQ * 2, SEQ).withBatch(2).withLr(1e-3);
    private static final TrainerSettings SETTINGS = TrainerSettings.defaults(SEQ).withLogEvery(1);
    @TempDir static Path tmp;
    private static TrainingData data;

    @BeforeAll
    static void data() throws IOException {
        data = Students.data("headfuse-mha-s", Students.text(tmp, 60_000), SEQ);
    }

    /** A finished run: its report and its final weights. */
    private record Run(TrainingReport report, Map<String, float[]> weights) {}

    private static Run train(UptrainRecipe recipe, Path resumeFrom, Path saveTo, int crashAfterSave) throws IOException {
        ObjectNode fingerprint = TrainerCheckpoint.fingerprint(recipe, Map.of("test", "resume"));
        try (LlamaModel teacher = Students.teacher("headfuse-mha-s"); LlamaModel student = Students.pairedStudent("headfuse-mha-s");
             Trainer t = new Trainer(teacher, student, data, List.of(), recipe, saveTo == null ? SETTINGS : SETTINGS.withSaveEvery(3L * SEQ * 2))) {
            if (resumeFrom != null) TrainerCheckpoint.restore(resumeFrom, t, fingerprint);
            TrainListener crash = new TrainListener() {
                @Override public void saved(Path dir, int step) {
                    if (step == crashAfterSave) throw new Crash();
                }
            };
            TrainingReport r = t.run(crash, saveTo == null ? null : tr -> TrainerCheckpoint.save(saveTo, tr, student.config(), fingerprint, List.of()));
            Map<String, float[]> w = new LinkedHashMap<>();
            for (var e : student.weights().parameters().entrySet()) w.put(e.getKey(), e.getValue().toFloatArray());
            return new Run(r, w);
        }
    }

    private static final class Crash extends RuntimeException {}

    @Test
    void sameSeedSameWeightsAndResumeEqualsAnUninterruptedRun() throws IOException {
        Run a = train(RECIPE, null, null, -1);
        Run again = train(RECIPE, null, null, -1);
        Run other = train(RECIPE.withSeed(1), null, null, -1);
        List<Double> lossesA = a.report().losses().stream().map(TrainingReport.LossPoint::loss).toList();
        System.out.println("losses, seed 0: " + lossesA);
        assertEquals(STEPS, lossesA.size());
        assertWeightsEqual(a.weights(), again.weights());
        assertFalse(java.util.Arrays.equals(a.weights().get("model.layers.0.self_attn.k_proj.weight"),
                other.weights().get("model.layers.0.self_attn.k_proj.weight")), "another seed draws other windows");

        Path state = tmp.resolve("state");
        assertThrows(Crash.class, () -> train(RECIPE, null, state, 3));
        Run resumed = train(RECIPE, state, null, -1);
        assertEquals(3, resumed.report().resumedAt());
        assertEquals(lossesA, resumed.report().losses().stream().map(TrainingReport.LossPoint::loss).toList(), "loss sequence");
        assertWeightsEqual(a.weights(), resumed.weights());

        CheckpointException e = assertThrows(CheckpointException.class, () -> train(RECIPE.withLr(2e-3), state, null, -1));
        System.out.println(e.getMessage());
        assertTrue(e.getMessage().contains(state.toString()) && e.getMessage().contains("recipe.lr"), e.getMessage());
    }

    private static void assertWeightsEqual(Map<String, float[]> a, Map<String, float[]> b) {
        assertEquals(a.keySet(), b.keySet());
        for (String k : a.keySet()) assertArrayEquals(a.get(k), b.get(k), k);
    }
}
