package io.headfuse.uptrain;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import io.headfuse.formats.Checkpoint;
import io.headfuse.formats.Checkpoints;
import io.headfuse.formats.calib.CalibrationStats;
import io.headfuse.testkit.Assets;
import io.headfuse.uptrain.model.LayerwiseCalibration;
import io.headfuse.uptrain.model.LlamaModel;
import io.headfuse.uptrain.tokenizer.TextTokenizer;
import io.headfuse.uptrain.tokenizer.Tokenizers;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** Streaming one decoder layer at a time gives the statistics of whole-model calibration (headfuse-mha-m). */
class LayerwiseCalibrationTest {
    @Test
    void layerwiseStatisticsEqualWholeModel() throws Exception {
        try (Checkpoint ckpt = Checkpoints.open(Assets.model("headfuse-mha-m"));
             TextTokenizer tok = Tokenizers.forModel(Assets.model("headfuse-mha-m"))) {
            int[] ids = tok.encode(Files.readString(Assets.text("sotu/sotu-1790-2021.txt")).substring(0, 20_000), true);
            List<int[]> windows = new ArrayList<>();
            for (int s = 0; s + 256 <= 1024 + 100; s += 256) windows.add(Arrays.copyOfRange(ids, s, Math.min(s + 256, 1124)));
            int layers = ckpt.config().numLayers(), h = ckpt.config().hiddenSize();

            CalibrationStats whole = new CalibrationStats(layers, h);
            try (LlamaModel m = LlamaModel.load(ckpt, Device.cpu())) {
                m.calibrate(windows, whole);
            }
            CalibrationStats streamed = new CalibrationStats(layers, h);
            AtomicLong seen = new AtomicLong();
            LayerwiseCalibration.run(ckpt, Device.cpu(), windows, streamed, seen::addAndGet);

            assertEquals(whole.tokens(), streamed.tokens());
            assertEquals(whole.tokens() * layers, seen.get(), "progress counts every token once per layer");
            double worst = 0;
            for (int l = 0; l < layers; l++) {
                double[] a = whole.secondMoment(l), b = streamed.secondMoment(l), ma = whole.mean(l), mb = streamed.mean(l);
                double err = 0, scale = 0;
                for (int i = 0; i < a.length; i++) {
                    err = Math.max(err, Math.abs(a[i] - b[i]));
                    scale = Math.max(scale, Math.abs(a[i]));
                }
                for (int i = 0; i < ma.length; i++) err = Math.max(err, Math.abs(ma[i] - mb[i]));
                worst = Math.max(worst, err / scale);
                assertTrue(err <= 1e-5 * scale, "layer " + l + ": max error " + err + " at scale " + scale);
            }
            System.out.printf("headfuse-mha-m, %d tokens, %d layers: layer-wise vs whole-model statistics, worst relative error %.2e%n",
                    whole.tokens(), layers, worst);
        }
    }

    @Test
    void wholeModelSizeEstimate() throws Exception {
        try (Checkpoint ckpt = Checkpoints.open(Assets.model("headfuse-mha-m"));
             LlamaModel m = LlamaModel.load(ckpt, Device.cpu())) {
            long actual = 0;
            for (var a : m.weights().parameters().values()) actual += a.getShape().size() * 4;
            assertEquals(actual, LayerwiseCalibration.wholeModelBytes(ckpt.config()));
        }
    }
}
