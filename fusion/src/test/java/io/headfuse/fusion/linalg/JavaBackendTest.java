package io.headfuse.fusion.linalg;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The plain-Java backend where real matrices do not go: sizes that end mid-block (the kernel's 256 x 512 blocks and
 * 32-row tasks), non-symmetric moments (the full second product), and rank-deficient and zero matrices (the SVD's
 * completion of V). Against plain triple loops; the real-matrix comparison with ND4J is converter's
 * LinalgBackendsTest.
 */
class JavaBackendTest {
    private final JavaBackend java = new JavaBackend();

    static double[] gaussian(Random r, int n) {
        double[] a = new double[n];
        for (int i = 0; i < n; i++) a[i] = r.nextGaussian();
        return a;
    }

    static double[] loops(double[] a, double[] b, int r, int k, int c) {
        double[] out = new double[r * c];
        for (int i = 0; i < r; i++)
            for (int j = 0; j < c; j++) {
                double s = 0;
                for (int p = 0; p < k; p++) s += a[i * k + p] * b[p * c + j];
                out[i * c + j] = s;
            }
        return out;
    }

    static double maxRel(double[] expect, double[] actual) {
        double scale = 0, diff = 0;
        for (int i = 0; i < expect.length; i++) {
            scale = Math.max(scale, Math.abs(expect[i]));
            diff = Math.max(diff, Math.abs(expect[i] - actual[i]));
        }
        return diff / scale;
    }

    @Test void productsAcrossBlockEdges() {
        Random r = new Random(11);
        int rows = 67, k = 300, c = 529;
        double[] a = gaussian(r, rows * k), b = gaussian(r, k * c);
        assertTrue(maxRel(loops(a, b, rows, k, c), java.mul(a, b, rows, k, c)) < 1e-14);
        float[] w = new float[rows * k];
        for (int i = 0; i < w.length; i++) w[i] = (float) a[i];
        double[] wd = new double[w.length], wt = new double[w.length];
        for (int i = 0; i < w.length; i++) wd[i] = w[i];
        for (int i = 0; i < rows; i++) for (int j = 0; j < k; j++) wt[j * rows + i] = wd[i * k + j];
        double[] m = gaussian(r, k * k); // not symmetric: the full second product
        assertTrue(maxRel(loops(loops(wd, m, rows, k, k), wt, rows, k, rows), java.congruence(w, rows, k, m)) < 1e-13);
        for (int i = 0; i < k; i++) for (int j = 0; j < i; j++) m[i * k + j] = m[j * k + i]; // symmetric: the half
        double[] sym = java.congruence(w, rows, k, m);
        assertTrue(maxRel(loops(loops(wd, m, rows, k, k), wt, rows, k, rows), sym) < 1e-13);
        for (int i = 0; i < rows; i++) for (int j = 0; j < rows; j++) assertEquals(sym[i * rows + j], sym[j * rows + i]);
        assertTrue(maxRel(loops(wt, wd, k, rows, k), java.gram(w, rows, k)) < 1e-13);
        // Symmetric up to rounding (an accelerator's X^T X): the half product, as close to the full one as M is to M^T.
        double[] noisy = m.clone();
        for (int i = 0; i < k; i++) for (int j = 0; j < i; j++) noisy[i * k + j] = Math.nextUp(noisy[i * k + j]);
        assertTrue(JavaBackend.symmetric(noisy, k));
        assertTrue(maxRel(loops(loops(wd, noisy, rows, k, k), wt, rows, k, rows), java.congruence(w, rows, k, noisy)) < 1e-13);
    }

    static void assertSvd(double[] m, Svd s, int n) {
        double top = Math.max(s.s()[0], Double.MIN_NORMAL);
        for (int i = 1; i < n; i++) assertTrue(s.s()[i - 1] >= s.s()[i]);
        double[] us = s.u().clone();
        for (int i = 0; i < n; i++) for (int j = 0; j < n; j++) us[i * n + j] *= s.s()[j];
        double[] back = loops(us, s.vt(), n, n, n);
        for (int i = 0; i < m.length; i++) assertEquals(m[i], back[i], 1e-13 * top);
        double[] vt = s.vt(), ut = new double[n * n], v = new double[n * n];
        for (int i = 0; i < n; i++) for (int j = 0; j < n; j++) {
            ut[j * n + i] = s.u()[i * n + j];
            v[j * n + i] = vt[i * n + j];
        }
        double[] utu = loops(ut, s.u(), n, n, n), vtv = loops(vt, v, n, n, n);
        for (int i = 0; i < n; i++) for (int j = 0; j < n; j++) {
            assertEquals(i == j ? 1 : 0, utu[i * n + j], 1e-13, "U^T U");
            assertEquals(i == j ? 1 : 0, vtv[i * n + j], 1e-13, "V^T V");
        }
    }

    @Test void svdOfFullRankRankDeficientAndZeroMatrices() {
        Random r = new Random(12);
        int n = 40;
        double[] full = gaussian(r, n * n);
        assertSvd(full, java.svd(full, n), n);
        // Rank 3: B (n x 3) C (3 x n); the other 37 directions of V are a completion.
        double[] low = loops(gaussian(r, n * 3), gaussian(r, 3 * n), n, 3, n);
        Svd s = java.svd(low, n);
        assertSvd(low, s, n);
        for (int i = 3; i < n; i++) assertTrue(s.s()[i] < 1e-13 * s.s()[0], "singular value " + i + " = " + s.s()[i]);
        double[] zero = new double[n * n];
        Svd z = java.svd(zero, n);
        assertSvd(zero, z, n);
        assertEquals(0, z.s()[0]);
    }
}
