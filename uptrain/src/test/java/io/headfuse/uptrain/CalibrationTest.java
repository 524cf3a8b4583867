package io.headfuse.uptrain;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.headfuse.formats.LlamaNames;
import io.headfuse.formats.calib.CalibrationStats;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import io.headfuse.uptrain.model.ForwardTap;
import io.headfuse.uptrain.model.LlamaModel;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The calibration hook against statistics computed independently in Java. */
class CalibrationTest {
    @Test
    void layerZeroInputIsNormalizedEmbedding() throws Exception {
        LlamaModel m = SharedModels.model("stories260K-mha-hf");
        int h = m.config().hiddenSize();
        int[] a = {1, 403, 407, 261, 378, 432, 383};
        int[] b = {1, 286, 261, 376};
        CalibrationStats stats = new CalibrationStats(m.config().numLayers(), h);
        m.calibrate(List.of(a, b), stats);
        assertEquals(a.length + b.length, stats.tokens());

        // Layer 0 reads RMSNorm(embedding) * weight: recompute in double and compare.
        float[] emb = m.weights().embed().toFloatArray();
        float[] w = m.weights().layer(0).inputNorm().toFloatArray();
        double[] gram = new double[h * h], sum = new double[h];
        for (int[] seq : List.of(a, b))
            for (int id : seq) {
                double ss = 0;
                for (int i = 0; i < h; i++) ss += (double) emb[id * h + i] * emb[id * h + i];
                double inv = 1 / Math.sqrt(ss / h + m.config().rmsNormEps());
                double[] x = new double[h];
                for (int i = 0; i < h; i++) x[i] = emb[id * h + i] * inv * w[i];
                for (int i = 0; i < h; i++) {
                    sum[i] += x[i];
                    for (int j = 0; j < h; j++) gram[i * h + j] += x[i] * x[j];
                }
            }
        double[] second = stats.secondMoment(0), mean = stats.mean(0);
        double n = stats.tokens(), maxErr = 0, scale = 0;
        for (int i = 0; i < h * h; i++) {
            maxErr = Math.max(maxErr, Math.abs(second[i] - gram[i] / n));
            scale = Math.max(scale, Math.abs(gram[i] / n));
        }
        for (int i = 0; i < h; i++) maxErr = Math.max(maxErr, Math.abs(mean[i] - sum[i] / n));
        assertTrue(maxErr <= 1e-5 * scale, "max error " + maxErr + " at scale " + scale);
        assertTrue(LlamaNames.inputNorm(0).equals(m.weights().layer(0).inputNorm().getName()));

        // Every layer against the attention inputs a full forward pass shows a tap.
        CalibrationStats viaTap = new CalibrationStats(m.config().numLayers(), h);
        for (int[] seq : List.of(a, b))
            try (NDManager sub = m.manager().newSubManager()) {
                m.forward(LlamaModel.tokens(sub, seq), null, new ForwardTap() {
                    @Override public void attentionInput(int layer, NDArray x) {
                        float[] v = x.toFloatArray();
                        int n = v.length / h;
                        float[] xtx = new float[h * h], sums = new float[h];
                        for (int t = 0; t < n; t++)
                            for (int i = 0; i < h; i++) {
                                sums[i] += v[t * h + i];
                                for (int j = 0; j < h; j++) xtx[i * h + j] += v[t * h + i] * v[t * h + j];
                            }
                        viaTap.add(layer, xtx, sums, n);
                    }
                });
            }
        for (int l = 0; l < m.config().numLayers(); l++) {
            double[] x1 = stats.secondMoment(l), x2 = viaTap.secondMoment(l);
            double err = 0, sc = 0;
            for (int i = 0; i < x1.length; i++) {
                err = Math.max(err, Math.abs(x1[i] - x2[i]));
                sc = Math.max(sc, Math.abs(x2[i]));
            }
            assertTrue(err <= 1e-4 * sc, "layer " + l + ": " + err + " at scale " + sc);
        }
    }
}
