package io.headfuse.fusion.asym;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;

class AlignmentTest {
    static final int D = 8, HIDDEN = 20;

    static double[] randomOrthogonal(Random r, int d) {
        double[] m = new double[d * d];
        for (int i = 0; i < m.length; i++) m[i] = r.nextGaussian();
        return Linalg.polar(m, d);
    }

    static double[] randomPlanes(Random r, int d) {
        double[] m = new double[d * d];
        for (int i = 0; i < m.length; i++) m[i] = r.nextGaussian();
        return Alignment.ropePlanes(m, d);
    }

    static void assertOrthogonal(double[] q, int d) {
        assertTrue(Dense.maxAbsDiff(Dense.mulT(q, q, d), Dense.identity(d)) < 1e-10, "Q Q^T = I");
    }

    @Test void procrustesIsOrthogonalAndRecoversAKnownRotation() {
        Random r = new Random(11);
        double[] sigma = Fixtures.spd(r, HIDDEN);
        double[] h = Fixtures.toDouble(Fixtures.gauss(r, D * HIDDEN));
        double[] q0 = randomOrthogonal(r, D);
        double[] ref = Dense.mul(q0, h, D, D, HIDDEN);
        // M = E[ref h^T] = ref Sigma h^T
        double[] m = Dense.mul(Dense.mul(ref, sigma, D, HIDDEN, HIDDEN), Dense.transpose(h, D, HIDDEN), D, HIDDEN, D);
        double[] q = Alignment.best(HeadKind.V, m, D);
        assertOrthogonal(q, D);
        assertTrue(Dense.maxAbsDiff(q, q0) < 1e-8, "recovers the rotation");
    }

    @Test void ropePlaneAlignmentRecoversAKnownPlaneRotation() {
        Random r = new Random(12);
        double[] sigma = Fixtures.spd(r, HIDDEN);
        double[] h = Fixtures.toDouble(Fixtures.gauss(r, D * HIDDEN));
        double[] r0 = randomPlanes(r, D);
        double[] ref = Dense.mul(r0, h, D, D, HIDDEN);
        double[] m = Dense.mul(Dense.mul(ref, sigma, D, HIDDEN, HIDDEN), Dense.transpose(h, D, HIDDEN), D, HIDDEN, D);
        double[] rot = Alignment.best(HeadKind.K, m, D);
        assertOrthogonal(rot, D);
        assertTrue(Dense.maxAbsDiff(rot, r0) < 1e-8);
    }

    @Test void ropePlaneRotationCommutesWithRope() {
        Random r = new Random(13);
        double[] rot = randomPlanes(r, D);
        double[] k = new double[D];
        for (int i = 0; i < D; i++) k[i] = r.nextGaussian();
        for (int pos : new int[] {0, 1, 7, 300}) {
            double[] a = Fixtures.rope(Dense.mul(rot, k, D, D, 1), pos, 10000);
            double[] b = Dense.mul(rot, Fixtures.rope(k, pos, 10000), D, D, 1);
            assertTrue(Dense.maxAbsDiff(a, b) < 1e-12, "position " + pos);
        }
    }

    @Test void foldingKeepsEachHeadsFunction() {
        Random r = new Random(14);
        int heads = 4;
        LayerWeights w = Fixtures.randomLayer(r, HIDDEN, heads, D);
        double[] sigma = Fixtures.spd(r, HIDDEN);
        HeadStats[] kv = HeadStats.of(w, sigma, sigma);
        Grouping g = Grouping.of(new int[][] {{0, 2, 3}, {1}});
        GroupFit.Method method = new GroupFit.Method(true, Pooling.MEAN, true);
        LayerWeights rot = Folding.rotate(w, Folding.fits(kv[0], g, method), Folding.fits(kv[1], g, method));
        for (int h = 0; h < heads; h++) {
            // W_q^T W_k (what the logit sees, before RoPE planes mix) and W_o W_v per head.
            assertClose(qk(w, h), qk(rot, h), "W_q^T W_k of head " + h);
            assertClose(ov(w, h), ov(rot, h), "W_o W_v of head " + h);
        }
        assertTrue(Dense.maxAbsDiff(Fixtures.toDouble(w.k()), Fixtures.toDouble(rot.k())) > 1e-3, "the heads did move");
        // And the whole layer with RoPE and softmax computes the same.
        double[] x = Fixtures.toDouble(Fixtures.gauss(r, 5 * HIDDEN));
        int[] id = Fixtures.identity(heads);
        double[] before = Fixtures.attention(x, 5, w.q(), w.k(), w.v(), w.o(), id, id, HIDDEN, D);
        double[] after = Fixtures.attention(x, 5, rot.q(), rot.k(), rot.v(), rot.o(), id, id, HIDDEN, D);
        assertTrue(Dense.maxAbsDiff(before, after) < 1e-5 * max(before));
    }

    @Test void generalisedProcrustesNeverSpreadsTheGroup() {
        Random r = new Random(15);
        LayerWeights w = Fixtures.randomLayer(r, HIDDEN, 4, D);
        HeadStats v = HeadStats.of(w, Fixtures.spd(r, HIDDEN), Fixtures.spd(r, HIDDEN))[1];
        int[] members = {0, 1, 2, 3};
        double[][] none = new double[4][];
        for (int a = 0; a < 4; a++) none[a] = Dense.identity(D);
        double before = Alignment.spread(v, members, none);
        double first = Alignment.spread(v, members, Alignment.rotations(v, members, 0));
        double later = Alignment.spread(v, members, Alignment.rotations(v, members, 5));
        assertTrue(first < before && later <= first + 1e-12, before + " -> " + first + " -> " + later);
    }

    static double max(double[] a) {
        double m = 0;
        for (double v : a) m = Math.max(m, Math.abs(v));
        return m;
    }

    static double[] qk(LayerWeights w, int h) {
        int hid = w.hidden();
        return Dense.mul(Dense.transpose(w.headRows(w.q(), h), D, hid), w.headRows(w.k(), h), hid, D, hid);
    }

    static double[] ov(LayerWeights w, int h) {
        return Dense.mul(w.headColumns(h), w.headRows(w.v(), h), w.hidden(), D, w.hidden());
    }

    static void assertClose(double[] a, double[] b, String what) {
        assertEquals(0, Dense.maxAbsDiff(a, b), 1e-5 * Math.max(1, max(a)), what);
    }
}
