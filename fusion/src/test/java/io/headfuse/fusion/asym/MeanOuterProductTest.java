package io.headfuse.fusion.asym;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.headfuse.formats.calib.CalibrationStats;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** HeadStats' shortcut for centred blocks applies to the covariance calibration makes, and only to it. */
class MeanOuterProductTest {
    @Test void recoversTheMeanOfCalibrationStatistics() {
        int n = 24, tokens = 300;
        Random r = new Random(3);
        CalibrationStats stats = new CalibrationStats(1, n);
        float[] xtx = new float[n * n], sums = new float[n];
        for (int t = 0; t < tokens; t++) {
            float[] x = new float[n];
            for (int i = 0; i < n; i++) x[i] = (float) (r.nextGaussian() + (i % 5 == 0 ? 3 : 0.1 * i));
            for (int i = 0; i < n; i++) {
                sums[i] += x[i];
                for (int j = 0; j < n; j++) xtx[i * n + j] += x[i] * x[j];
            }
        }
        stats.add(0, xtx, sums, tokens);
        double[] mean = stats.mean(0), mu = MeanOuterProduct.meanOf(stats.secondMoment(0), stats.covariance(0), n);
        double sign = Math.signum(mu[0] * mean[0]);
        for (int i = 0; i < n; i++) assertEquals(mean[i], sign * mu[i], 1e-12 * Math.abs(mean[0]), "mean " + i);
    }

    @Test void aCovarianceOfAnotherFormIsLeftToTheFullProduct() {
        int n = 6;
        double[] m = new double[n * n], c = new double[n * n];
        for (int i = 0; i < n; i++) {
            m[i * n + i] = 2;
            c[i * n + i] = 1; // M - C = I: rank n, not an outer product
        }
        assertNull(MeanOuterProduct.meanOf(m, c, n));
        assertArrayEquals(new double[n], MeanOuterProduct.meanOf(m, m.clone(), n));
    }
}
