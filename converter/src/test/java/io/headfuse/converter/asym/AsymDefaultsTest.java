package io.headfuse.converter.asym;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.headfuse.converter.report.AsymBench;
import io.headfuse.formats.calib.CalibrationStats;
import io.headfuse.fusion.Strategies;
import io.headfuse.testkit.Assets;
import io.headfuse.uptrain.eval.TokenStream;
import org.junit.jupiter.api.Test;

/**
 * Issue 7, item 6: {@code --strategy asym} with nothing else (align + least squares + coupled) beats mean-pooling
 * by at least 40% on the Moby-Dick validation slice, headfuse-mha-m at 4 and 2 kv heads. Calibrated on 16,384
 * tokens of the SOTU text to keep CI time small (the CLI default is 65,536).
 */
class AsymDefaultsTest {
    @Test void defaultAsymBeatsMeanPoolingByFortyPercent() throws Exception {
        AsymBench b = new AsymBench(Assets.model("headfuse-mha-m"));
        try {
            CalibrationStats stats = b.calibrate(Assets.text("sotu/sotu-1790-2021.txt"), 16384);
            TokenStream stream = b.evalStream(Assets.text("moby-dick/moby-dick.txt"));
            for (int kv : new int[] {4, 2}) {
                double mean = b.run(new AsymBench.Variant("mean", Strategies.byName("mean")), kv, stats, stream).ppl();
                AsymBench.Row asym = b.run(new AsymBench.Variant("asym defaults", Strategies.byName("asym")), kv, stats, stream);
                double gain = 1 - asym.ppl() / mean;
                System.out.printf("kv=%d: mean %.2f, default asym %.2f (%.1f s): %.1f%% lower%n", kv, mean, asym.ppl(), asym.convertSeconds(), 100 * gain);
                assertTrue(gain >= 0.40, "kv=" + kv + ": default asym " + asym.ppl() + " vs mean " + mean + " is only " + 100 * gain + "% lower");
            }
        } finally {
            b.close();
        }
    }
}
