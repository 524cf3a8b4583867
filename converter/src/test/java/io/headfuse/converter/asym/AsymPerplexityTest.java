package io.headfuse.converter.asym;

import io.headfuse.testkit.Assets;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.headfuse.converter.report.AsymBench;
import io.headfuse.formats.calib.CalibrationStats;
import io.headfuse.fusion.MeanPoolStrategy;
import io.headfuse.uptrain.eval.TokenStream;
import org.junit.jupiter.api.Test;

/**
 * The check on headfuse-mha-m: calibrated on the SOTU text, zero-shot perplexity on the Moby-Dick
 * validation slice is lower for asym than for mean-pooling, and lower again with alignment, at 4 and 2 kv heads.
 * Calibrates on 16384 tokens (the CLI default is 65536) to stay within a few minutes on two cores;
 * bench/asym-table.sh prints the full table.
 */
class AsymPerplexityTest {
    @Test void asymBeatsMeanPoolingAndAlignmentBeatsAsym() throws Exception {
        AsymBench b = new AsymBench(Assets.model("headfuse-mha-m"));
        try {
            long t0 = System.nanoTime();
            CalibrationStats stats = b.calibrate(Assets.text("sotu/sotu-1790-2021.txt"), 16384);
            TokenStream stream = b.evalStream(Assets.text("moby-dick/moby-dick.txt"));
            System.out.printf("calibration %.1f s%n", (System.nanoTime() - t0) / 1e9);
            for (int kv : new int[] {4, 2}) {
                double mean = b.run(new AsymBench.Variant("mean", new MeanPoolStrategy()), kv, stats, stream).ppl();
                AsymBench.Row asym = b.run(new AsymBench.Variant("asym", AsymBench.asym(false, false, false, 0)), kv, stats, stream);
                AsymBench.Row align = b.run(new AsymBench.Variant("asym+align", AsymBench.asym(true, false, false, 0)), kv, stats, stream);
                System.out.printf("kv=%d: mean %.2f, asym %.2f (%.1f s), asym+align %.2f (%.1f s)%n", kv, mean, asym.ppl(), asym.convertSeconds(),
                        align.ppl(), align.convertSeconds());
                assertTrue(asym.ppl() < mean, "kv=" + kv + ": asym " + asym.ppl() + " vs mean " + mean);
                assertTrue(align.ppl() < asym.ppl(), "kv=" + kv + ": asym+align " + align.ppl() + " vs asym " + asym.ppl());
            }
            System.out.printf("total %.1f s%n", (System.nanoTime() - t0) / 1e9);
        } finally {
            b.close();
        }
    }
}
