package io.headfuse.uptrain.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.headfuse.formats.Checkpoint;
import io.headfuse.formats.Checkpoints;
import io.headfuse.testkit.Assets;
import java.util.List;
import org.junit.jupiter.api.Test;

/** How windows are grouped, and the default batch's memory bound. */
class BatchingTest {
    @Test
    void equalWindowsAreStackedAndTheShortLastOneRunsAlone() {
        List<int[]> windows = List.of(new int[] {0, 4}, new int[] {4, 8}, new int[] {8, 12}, new int[] {12, 16}, new int[] {16, 18});
        List<List<int[]>> b = Batches.of(windows, 3);
        assertEquals(List.of(3, 1, 1), b.stream().map(List::size).toList());
        assertEquals(16, b.get(2).get(0)[0]);
        assertEquals(List.of(4, 1), Batches.of(windows, 8).stream().map(List::size).toList());
        assertEquals(5, Batches.of(windows, 1).size());
    }

    @Test
    void defaultBatchFollowsTheMemoryBound() throws Exception {
        try (Checkpoint c = Checkpoints.open(Assets.model("headfuse-mha-m"))) {
            var config = c.config();
            long perWindow = 4L * (2L * 512 * config.vocabSize() + 2L * config.numHeads() * 512 * 512 + 3L * 512 * config.intermediateSize());
            assertEquals(3, BatchSize.forBudget(config, 512, 3 * perWindow + 1));
            assertEquals(1, BatchSize.forBudget(config, 512, 10));
            assertEquals(BatchSize.MAX_TOKENS / 512, BatchSize.forBudget(config, 512, Long.MAX_VALUE / 2));
            assertEquals(BatchSize.MAX_BATCH, BatchSize.forBudget(config, 64, Long.MAX_VALUE / 2));
            assertEquals(1, BatchSize.resolve(0, config, 512, ai.djl.Device.cpu()), "CPU default");
            assertEquals(8, BatchSize.resolve(8, config, 512, ai.djl.Device.cpu()));
        }
    }
}
