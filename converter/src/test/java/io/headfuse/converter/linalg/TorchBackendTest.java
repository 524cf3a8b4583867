package io.headfuse.converter.linalg;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.headfuse.converter.report.AsymBench;
import io.headfuse.formats.Checkpoint;
import io.headfuse.formats.Checkpoints;
import io.headfuse.formats.calib.CalibrationStats;
import io.headfuse.fusion.asym.AsymStrategy;
import io.headfuse.fusion.asym.LayerWeights;
import io.headfuse.fusion.linalg.JavaBackend;
import io.headfuse.fusion.linalg.LinalgBackend;
import io.headfuse.fusion.linalg.LinalgBackends;
import io.headfuse.testkit.Assets;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The torch backend (products in float64 on libtorch; on the CPU here) against the plain-Java one on real matrices:
 * headfuse-mha-s's layer-1 projections with input moments calibrated on 2,048 SOTU tokens. It is found by name
 * through ServiceLoader ({@code HEADFUSE_LINALG=torch}), and its products agree with Java's to float64 rounding.
 */
class TorchBackendTest {
    private static final LinalgBackend JAVA = new JavaBackend();

    @Test void foundByNameThroughServiceLoader() {
        String before = System.getProperty(LinalgBackends.PROPERTY);
        System.setProperty(LinalgBackends.PROPERTY, "torch");
        try {
            LinalgBackend b = LinalgBackends.choose();
            assertTrue(b instanceof TorchBackend, "got " + b);
            assertEquals("torch", b.name());
        } finally {
            if (before == null) System.clearProperty(LinalgBackends.PROPERTY);
            else System.setProperty(LinalgBackends.PROPERTY, before);
        }
    }

    @Test void productsMatchPlainJavaOnRealMatrices() throws Exception {
        LayerWeights w;
        double[] moment, covariance;
        AsymBench bench = new AsymBench(Assets.model("headfuse-mha-s"));
        try {
            CalibrationStats s = bench.calibrate(Assets.text("sotu/sotu-1790-2021.txt"), 2048);
            moment = s.secondMoment(1);
            covariance = s.covariance(1);
            try (Checkpoint in = Checkpoints.open(Assets.model("headfuse-mha-s"))) {
                w = AsymStrategy.weights(in, 1);
            }
        } finally {
            bench.close();
        }
        TorchBackend torch = new TorchBackend();
        int rows = w.heads() * w.headDim(), hidden = w.hidden();
        double worst = 0;
        for (float[] p : List.of(w.q(), w.k(), w.v()))
            for (double[] m : List.of(moment, covariance)) {
                double[] t = torch.congruence(p, rows, hidden, m);
                worst = Math.max(worst, close(JAVA.congruence(p, rows, hidden, m), t, 1e-12, "W M W^T"));
                for (int i = 0; i < rows; i++)
                    for (int j = 0; j < i; j++) assertEquals(t[i * rows + j], t[j * rows + i], 0.0, "W M W^T is symmetric");
            }
        worst = Math.max(worst, close(JAVA.gram(w.o(), hidden, rows), torch.gram(w.o(), hidden, rows), 1e-12, "O^T O"));
        double[] a = java.util.Arrays.copyOf(moment, hidden * 64);
        worst = Math.max(worst, close(JAVA.mul(a, covariance, 64, hidden, hidden), torch.mul(a, covariance, 64, hidden, hidden), 1e-12, "A B"));
        System.out.printf("torch vs java on headfuse-mha-s layer 1: max |diff| / max |java| = %.2e%n", worst);
    }

    /** Asserts every entry within {@code rel} of {@code expected}'s largest magnitude; returns the relative difference. */
    private static double close(double[] expected, double[] actual, double rel, String what) {
        assertEquals(expected.length, actual.length, what + ": length");
        double scale = 0, diff = 0;
        for (int i = 0; i < expected.length; i++) {
            scale = Math.max(scale, Math.abs(expected[i]));
            diff = Math.max(diff, Math.abs(expected[i] - actual[i]));
        }
        assertTrue(diff <= rel * scale, what + ": max |diff| " + diff + " against scale " + scale);
        return diff / scale;
    }
}
