package io.headfuse.converter.asym;

import io.headfuse.testkit.Assets;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.headfuse.converter.report.AsymBench;
import io.headfuse.formats.calib.CalibrationStats;
import io.headfuse.fusion.FusionStrategy;
import io.headfuse.fusion.MeanPoolStrategy;
import io.headfuse.uptrain.eval.TokenStream;
import org.junit.jupiter.api.Test;

/**
 * headfuse-mha-m calibrated on the first 16384 tokens of the SOTU text (the CLI default is 65536; fewer keeps
 * this within a few minutes on two cores), zero-shot perplexity on the Moby-Dick validation slice, every
 * variant with its flags explicit (align, lsq, coupled, seed 0) so a change of the CLI's defaults leaves it alone.
 * Each perplexity is pinned to the value this test measured when it was written (2026-11-30, CPU, this code),
 * within 10%: a regression of 25% fails, and so does a change that moves a number more than noise can (then the
 * pins are updated with the reason). bench/asym-table.sh prints the full table with 65536 calibration tokens.
 */
class AsymPerplexityTest {
    private static final double TOLERANCE = 0.10;

    @Test void eachVariantKeepsItsMeasuredPerplexity() throws Exception {
        AsymBench b = new AsymBench(Assets.model("headfuse-mha-m"));
        try {
            long t0 = System.nanoTime();
            CalibrationStats stats = b.calibrate(Assets.text("sotu/sotu-1790-2021.txt"), 16384);
            TokenStream stream = b.evalStream(Assets.text("moby-dick/moby-dick.txt"));
            System.out.printf("calibration %.1f s%n", (System.nanoTime() - t0) / 1e9);
            // measured: kv=4 mean 312.5459, asym 238.1630, asym+align 117.2747, asym+align+lsq coupled 88.1843
            pin(b, 4, "mean", new MeanPoolStrategy(), 312.5459, stats, stream);
            pin(b, 4, "asym (no align, no lsq, decoupled)", AsymBench.asym(false, false, false, 0), 238.1630, stats, stream);
            pin(b, 4, "asym+align (no lsq, decoupled)", AsymBench.asym(true, false, false, 0), 117.2747, stats, stream);
            pin(b, 4, "asym+align+lsq coupled", AsymBench.asym(true, true, true, 0), 88.1843, stats, stream);
            // measured: kv=2 mean 1424.3775, asym 1105.7079, asym+align 220.1230
            pin(b, 2, "mean", new MeanPoolStrategy(), 1424.3775, stats, stream);
            pin(b, 2, "asym (no align, no lsq, decoupled)", AsymBench.asym(false, false, false, 0), 1105.7079, stats, stream);
            pin(b, 2, "asym+align (no lsq, decoupled)", AsymBench.asym(true, false, false, 0), 220.1230, stats, stream);
            System.out.printf("total %.1f s%n", (System.nanoTime() - t0) / 1e9);
        } finally {
            b.close();
        }
    }

    private static void pin(AsymBench b, int kv, String label, FusionStrategy s, double measured, CalibrationStats stats, TokenStream stream) throws Exception {
        AsymBench.Row row = b.run(new AsymBench.Variant(label, s), kv, stats, stream);
        System.out.printf("kv=%d %-36s ppl %.4f (pinned %.4f, %+.2f%%), %.1f s%n", kv, label, row.ppl(), measured,
                100 * (row.ppl() / measured - 1), row.convertSeconds());
        assertEquals(measured, row.ppl(), TOLERANCE * measured, "kv=" + kv + " " + label);
    }
}
