package io.headfuse.fusion.asym;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;

/** ND4J's native backend loads on this JVM, and the wrappers agree with plain loops on non-symmetric inputs. */
class LinalgTest {
    static double[] random(Random r, int n) {
        double[] a = new double[n];
        for (int i = 0; i < n; i++) a[i] = r.nextGaussian();
        return a;
    }

    @Test void svdReconstructsANonSymmetricMatrix() {
        int n = 7;
        double[] m = random(new Random(1), n * n);
        io.headfuse.fusion.linalg.Svd svd = Linalg.svd(m, n);
        double[] us = svd.u().clone();
        for (int i = 0; i < n; i++) for (int j = 0; j < n; j++) us[i * n + j] *= svd.s()[j];
        assertTrue(Dense.maxAbsDiff(m, Dense.mul(us, svd.vt(), n)) < 1e-10);
        for (int i = 1; i < n; i++) assertTrue(svd.s()[i - 1] >= svd.s()[i]);
    }

    @Test void solveOfASymmetricPositiveDefiniteSystem() {
        int n = 6;
        double[] x = random(new Random(2), n * n);
        double[] a = Dense.mulT(x, x, n);
        for (int i = 0; i < n; i++) a[i * n + i] += 0.5;
        double[] b = random(new Random(3), n * 3);
        double[] sol = Linalg.solveSpd(a, b, n, 3, 0);
        assertTrue(Dense.maxAbsDiff(b, Dense.mul(a, sol, n, n, 3)) < 1e-9);
    }

    /** Pooling's Cholesky solve agrees with the SVD route it replaced, and refuses a matrix that is not definite. */
    @Test void choleskySolveMatchesTheSvdSolve() {
        int n = 128, c = 512;
        double[] x = random(new Random(4), n * n);
        double[] a = Dense.mulT(x, x, n);
        for (int i = 0; i < n; i++) a[i * n + i] += 1e-3;
        double[] b = random(new Random(5), n * c);
        double[] chol = Dense.choleskySolve(a, b, n, c), svd = Linalg.solveSpd(a, b, n, c, 0);
        double scale = 0;
        for (double v : svd) scale = Math.max(scale, Math.abs(v));
        assertTrue(Dense.maxAbsDiff(chol, svd) < 1e-9 * scale, "relative difference " + Dense.maxAbsDiff(chol, svd) / scale);
        assertTrue(Dense.maxAbsDiff(b, Dense.mul(a, chol, n, n, c)) < 1e-9);
        double[] indefinite = Dense.identity(3);
        indefinite[8] = -1;
        assertEquals(null, Dense.choleskySolve(indefinite, new double[3], 3, 1));
    }

    @Test void largeProductsMatchLoops() {
        Random r = new Random(4);
        int rows = 5, cols = 9;
        float[] w = new float[rows * cols];
        for (int i = 0; i < w.length; i++) w[i] = (float) r.nextGaussian();
        double[] m = random(r, cols * cols);
        double[] wd = new double[w.length];
        for (int i = 0; i < w.length; i++) wd[i] = w[i];
        double[] expect = Dense.mul(Dense.mul(wd, m, rows, cols, cols), Dense.transpose(wd, rows, cols), rows, cols, rows);
        assertTrue(Dense.maxAbsDiff(expect, Linalg.congruence(w, rows, cols, m)) < 1e-9);
        double[] g = Linalg.gram(w, rows, cols);
        assertEquals(Dense.mul(Dense.transpose(wd, rows, cols), wd, cols, rows, cols)[3 * cols + 5], g[3 * cols + 5], 1e-9);
    }
}
