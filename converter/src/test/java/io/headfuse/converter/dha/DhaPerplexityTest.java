package io.headfuse.converter.dha;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.headfuse.converter.DhaLossProbe;
import io.headfuse.converter.report.AsymBench;
import io.headfuse.formats.Checkpoint;
import io.headfuse.formats.Checkpoints;
import io.headfuse.formats.calib.CalibrationStats;
import io.headfuse.fusion.FusionPlan;
import io.headfuse.fusion.dha.DhaOptions;
import io.headfuse.fusion.dha.DhaStrategy;
import io.headfuse.testkit.Assets;
import io.headfuse.uptrain.eval.TokenStream;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The check "allocation alone beats uniform": headfuse-mha-m at 2 kv heads on average, zero-shot, calibrated
 * on 16,384 SOTU tokens (the CLI default is 65,536; fewer keep CI short). DHA's per-layer budgets (K and V sharing
 * a Ward grouping per layer, counts priced by 2,048-token calibration-loss probes), each group aligned and pooled
 * by least squares, against uniform asym kv 2 --align --lsq --coupled (the README's 150.47 with 65,536 calibration
 * tokens), on the Moby-Dick validation slice, window 512.
 */
class DhaPerplexityTest {
    @Test void allocationAloneBeatsUniform() throws Exception {
        AsymBench b = new AsymBench(Assets.model("headfuse-mha-m"));
        try (Checkpoint in = Checkpoints.open(Assets.model("headfuse-mha-m"))) {
            long t0 = System.nanoTime();
            CalibrationStats stats = b.calibrate(Assets.text("sotu/sotu-1790-2021.txt"), 16384);
            TokenStream stream = b.evalStream(Assets.text("moby-dick/moby-dick.txt"));
            AsymBench.Row uniform = b.run(new AsymBench.Variant("asym+align+lsq coupled", AsymBench.asym(true, true, true, 0)), 2, stats, stream);
            DhaStrategy dha = new DhaStrategy(DhaOptions.defaults(), new DhaLossProbe(in, stats, List.of(Assets.text("sotu/sotu-1790-2021.txt")), 2048));
            AsymBench.Row dhaRow = b.run(new AsymBench.Variant("dha", dha), 2, stats, stream);
            FusionPlan plan = b.lastPlan();
            int[] k = (int[]) plan.details().get(DhaStrategy.K_HEADS), v = (int[]) plan.details().get(DhaStrategy.V_HEADS);
            System.out.printf("uniform asym kv2 align lsq coupled: ppl %.3f (%.1f s)%ndha kv2: ppl %.3f (%.1f s), K %s V %s%ntotal %.1f s%n",
                    uniform.ppl(), uniform.convertSeconds(), dhaRow.ppl(), dhaRow.convertSeconds(), Arrays.toString(k),
                    Arrays.toString(v), (System.nanoTime() - t0) / 1e9);
            assertTrue(dhaRow.ppl() < uniform.ppl(), "dha " + dhaRow.ppl() + " vs uniform " + uniform.ppl());
            // Pinned (CPU, fp32): uniform 152.076, DHA 142.171 with budgets K = V = [3, 1, 3, 1, 2, 2].
            assertEquals(152.08, uniform.ppl(), 0.5);
            assertEquals(142.17, dhaRow.ppl(), 0.5);
            assertArrayEquals(new int[] {3, 1, 3, 1, 2, 2}, k);
            assertArrayEquals(k, v, "coupled: K and V share each layer's count");
        } finally {
            b.close();
        }
    }
}
