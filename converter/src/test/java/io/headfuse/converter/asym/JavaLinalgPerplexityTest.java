package io.headfuse.converter.asym;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.headfuse.converter.linalg.TorchBackend;
import io.headfuse.converter.report.AsymBench;
import io.headfuse.formats.calib.CalibrationStats;
import io.headfuse.fusion.FusionPlan;
import io.headfuse.fusion.LayerPlan;
import io.headfuse.fusion.asym.Linalg;
import io.headfuse.fusion.linalg.JavaBackend;
import io.headfuse.fusion.linalg.LinalgBackend;
import io.headfuse.fusion.linalg.LinalgBackends;
import io.headfuse.testkit.Assets;
import io.headfuse.uptrain.eval.TokenStream;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/**
 * The whole asym conversion on the plain-Java backend gives the model the ND4J backend gives: headfuse-mha-s, kv 2,
 * aligned, least-squares pooled, coupled, seed 0, calibrated on the first 16,384 SOTU tokens, zero-shot perplexity on
 * the Moby-Dick validation slice. The torch backend (products on libtorch, here on the CPU) too. Same groups in every layer, perplexities equal within 1e-4 relative (measured:
 * equal to the last printed digit, 188.509259 both); the ND4J
 * value is pinned (measured 2026-11-30, CPU) within 10% as AsymPerplexityTest pins its values.
 */
class JavaLinalgPerplexityTest {
    private static final double PINNED = 188.5093;

    @Test void asymKv2OnPlainJavaMatchesNd4j() throws Exception {
        AsymBench b = new AsymBench(Assets.model("headfuse-mha-s"));
        LinalgBackend previous = Linalg.backend();
        try {
            CalibrationStats stats = b.calibrate(Assets.text("sotu/sotu-1790-2021.txt"), 16384);
            TokenStream stream = b.evalStream(Assets.text("moby-dick/moby-dick.txt"));
            AsymBench.Variant v = new AsymBench.Variant("asym+align+lsq coupled", AsymBench.asym(true, true, true, 0));
            Linalg.install(LinalgBackends.nd4j());
            AsymBench.Row nd4j = b.run(v, 2, stats, stream);
            FusionPlan nd4jPlan = b.lastPlan();
            Linalg.install(new JavaBackend());
            AsymBench.Row java = b.run(v, 2, stats, stream);
            FusionPlan javaPlan = b.lastPlan();
            Linalg.install(new TorchBackend());
            AsymBench.Row torch = b.run(v, 2, stats, stream);
            FusionPlan torchPlan = b.lastPlan();
            System.out.printf("asym kv 2 of headfuse-mha-s with products on libtorch (CPU): ppl %.6f (%.1f s)%n", torch.ppl(), torch.convertSeconds());
            System.out.printf("asym kv 2 of headfuse-mha-s: ppl nd4j %.6f (%.1f s), java %.6f (%.1f s), relative difference %.2e%n",
                    nd4j.ppl(), nd4j.convertSeconds(), java.ppl(), java.convertSeconds(), Math.abs(java.ppl() / nd4j.ppl() - 1));
            for (int l = 0; l < nd4jPlan.layers().size(); l++) {
                LayerPlan a = nd4jPlan.layers().get(l), c = javaPlan.layers().get(l);
                assertEquals(Arrays.deepToString(a.kGroups()), Arrays.deepToString(c.kGroups()), "K groups of layer " + l);
                assertEquals(Arrays.deepToString(a.vGroups()), Arrays.deepToString(c.vGroups()), "V groups of layer " + l);
                LayerPlan t = torchPlan.layers().get(l);
                assertEquals(Arrays.deepToString(a.kGroups()), Arrays.deepToString(t.kGroups()), "torch: K groups of layer " + l);
                assertEquals(Arrays.deepToString(a.vGroups()), Arrays.deepToString(t.vGroups()), "torch: V groups of layer " + l);
            }
            assertEquals(nd4j.ppl(), java.ppl(), 1e-4 * nd4j.ppl());
            assertEquals(nd4j.ppl(), torch.ppl(), 1e-4 * nd4j.ppl());
            assertEquals(PINNED, nd4j.ppl(), 0.10 * PINNED);
        } finally {
            Linalg.install(previous);
            b.close();
        }
    }
}
