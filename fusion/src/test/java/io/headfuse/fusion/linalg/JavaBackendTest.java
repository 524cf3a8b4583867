package io.headfuse.fusion.linalg;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
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

    /** U S V^T for random orthogonal U, V and singular values spread geometrically from 1 to 1 / condition. */
    static double[] withCondition(Random r, int n, double condition) {
        JavaBackend java = new JavaBackend();
        double[] u = java.svd(gaussian(r, n * n), n).u(), v = java.svd(gaussian(r, n * n), n).u();
        for (int i = 0; i < n; i++)
            for (int k = 0; k < n; k++) u[i * n + k] *= Math.pow(condition, -(double) k / (n - 1));
        double[] vt = new double[n * n];
        for (int i = 0; i < n; i++) for (int j = 0; j < n; j++) vt[j * n + i] = v[i * n + j];
        return loops(u, vt, n, n, n);
    }

    static double maxAbsDiff(double[] a, double[] b) {
        double m = 0;
        for (int i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
        return m;
    }

    /**
     * Newton's polar factor is the SVD's U V^T up to round-off (growing with the condition number as the factor's
     * own sensitivity does), a reflection included; past {@link NewtonPolar#MAX_CONDITION}, and for a singular or
     * zero matrix, it declines and the backend's polar is the SVD's bit for bit.
     */
    @Test void newtonPolarFactorMatchesTheSvdsOrDeclines() {
        Random r = new Random(13);
        int n = 128;
        double[] conditions = {1, 10, 1e3, 1e5, 1e6};
        double[] within = {1e-13, 1e-13, 1e-13, 1e-11, 1e-10};
        for (int c = 0; c < conditions.length; c++) {
            double[] m = withCondition(r, n, conditions[c]);
            for (int i = 0; i < m.length; i++) m[i] *= 3e-4; // the scale of a moment block: the iteration's first step rescales
            double[] newton = NewtonPolar.of(m, n), svd = java.svd(m, n).polar();
            assertTrue(newton != null, "declined at condition " + conditions[c]);
            double diff = maxAbsDiff(newton, svd);
            assertTrue(diff < within[c], "condition " + conditions[c] + ": max |newton - svd| " + diff);
            assertTrue(maxAbsDiff(loops(newton, transpose(newton, n), n, n, n), identity(n)) < 1e-13, "Q Q^T = I");
            double[] polar = java.polar(m, n);
            assertTrue(Arrays.equals(newton, polar), "the backend's polar is Newton's");
        }
        // A reflection (det -1) stays one: Newton does not pick the nearest rotation instead.
        double[] reflect = withCondition(r, n, 5);
        for (int j = 0; j < n; j++) reflect[j] = -reflect[j];
        assertTrue(maxAbsDiff(NewtonPolar.of(reflect, n), java.svd(reflect, n).polar()) < 1e-13);
        // Too ill-conditioned, rank-deficient, zero: declined, and the SVD's factor (with its completion) is used.
        double[] ill = withCondition(r, n, 1e9);
        double[] low = loops(gaussian(r, n * 3), gaussian(r, 3 * n), n, 3, n);
        for (double[] m : new double[][] {ill, low, new double[n * n]}) {
            assertEquals(null, NewtonPolar.of(m, n));
            assertTrue(Arrays.equals(java.svd(m, n).polar(), java.polar(m, n)));
        }
    }

    static double[] transpose(double[] a, int n) {
        double[] t = new double[n * n];
        for (int i = 0; i < n; i++) for (int j = 0; j < n; j++) t[j * n + i] = a[i * n + j];
        return t;
    }

    static double[] identity(int n) {
        double[] a = new double[n * n];
        for (int i = 0; i < n; i++) a[i * n + i] = 1;
        return a;
    }
}
