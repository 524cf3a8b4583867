package io.headfuse.fusion.asym;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;

class PoolingTest {
    static final int D = 6, HIDDEN = 20, HEADS = 4;

    /** The block-space error equals the error of the pooled weights computed directly in hidden space. */
    @Test void groupErrorMatchesADirectComputation() {
        Random r = new Random(31);
        LayerWeights w = Fixtures.randomLayer(r, HIDDEN, HEADS, D);
        double[] sigma = Fixtures.spd(r, HIDDEN);
        HeadStats[] kv = HeadStats.of(w, sigma, sigma);
        int[] members = {0, 2, 3};
        for (boolean align : new boolean[] {false, true})
            for (Pooling p : Pooling.values())
                for (HeadKind kind : HeadKind.values()) {
                    GroupFit.Method method = new GroupFit.Method(align, p, true);
                    HeadStats s = kv[kind.ordinal()];
                    GroupFit fit = GroupFit.fit(s, members, method);
                    Grouping g = Grouping.of(new int[][] {members, {1}});
                    GroupFit[] fits = Folding.fits(s, g, method);
                    GroupFit[] other = Folding.fits(kv[1 - kind.ordinal()], g, method);
                    LayerWeights rot = kind == HeadKind.K ? Folding.rotate(w, fits, other) : Folding.rotate(w, other, fits);
                    float[][] pooled = Folding.pool(rot, kind == HeadKind.K ? fits : other, kind == HeadKind.K ? other : fits);
                    double[] h = Fixtures.toDouble(java.util.Arrays.copyOfRange(pooled[kind.ordinal()], 0, D * HIDDEN));
                    double direct = 0;
                    for (int member : members) {
                        double[] diff = Dense.add(rot.headRows(kind == HeadKind.K ? rot.k() : rot.v(), member), Dense.scale(h, -1));
                        double[] e = Dense.mul(Dense.mul(diff, sigma, D, HIDDEN, HIDDEN), Dense.transpose(diff, D, HIDDEN), D, HIDDEN, D);
                        double[] metric = kind == HeadKind.K
                                ? Dense.mul(Dense.mul(rot.headRows(rot.q(), member), sigma, D, HIDDEN, HIDDEN), Dense.transpose(rot.headRows(rot.q(), member), D, HIDDEN), D, HIDDEN, D)
                                : Dense.mul(Dense.transpose(rot.headColumns(member), HIDDEN, D), rot.headColumns(member), D, HIDDEN, D);
                        direct += Dense.traceOfProduct(metric, e, D);
                    }
                    assertEquals(direct, fit.error(), 1e-4 * direct, kind + " align=" + align + " " + p);
                }
    }

    @Test void leastSquaresBeatsTheMeanOnItsObjective() {
        Random r = new Random(32);
        LayerWeights w = Fixtures.randomLayer(r, HIDDEN, HEADS, D);
        double[] sigma = Fixtures.spd(r, HIDDEN);
        for (HeadStats s : HeadStats.of(w, sigma, sigma))
            for (boolean align : new boolean[] {false, true}) {
                int[] members = {0, 1, 2, 3};
                double mean = GroupFit.fit(s, members, new GroupFit.Method(align, Pooling.MEAN, true)).error();
                double lsq = GroupFit.fit(s, members, new GroupFit.Method(align, Pooling.LEAST_SQUARES, true)).error();
                assertTrue(lsq < mean, s.kind() + " align=" + align + ": lsq " + lsq + " vs mean " + mean);
            }
    }

    @Test void alignmentLowersTheUnweightedErrorOfTheMean() {
        Random r = new Random(33);
        LayerWeights w = Fixtures.randomLayer(r, HIDDEN, HEADS, D);
        double[] sigma = Fixtures.spd(r, HIDDEN);
        for (HeadStats s : HeadStats.of(w, sigma, sigma)) {
            int[] members = {1, 2, 3};
            double plain = GroupFit.fit(s, members, new GroupFit.Method(false, Pooling.MEAN, false)).error();
            double aligned = GroupFit.fit(s, members, new GroupFit.Method(true, Pooling.MEAN, false)).error();
            assertTrue(aligned < plain, s.kind() + ": " + aligned + " vs " + plain);
        }
    }

    /** A head the model never reads (zero o_proj block) gets no say, and unseen directions stay at the mean. */
    @Test void leastSquaresIgnoresUnreadHeadsAndStaysFinite() {
        Random r = new Random(35);
        LayerWeights w = Fixtures.randomLayer(r, HIDDEN, HEADS, D);
        for (int row = 0; row < HIDDEN; row++) for (int c = 0; c < D; c++) w.o()[row * HEADS * D + 1 * D + c] = 0;
        double[] sigma = Fixtures.spd(r, HIDDEN);
        HeadStats v = HeadStats.of(w, sigma, sigma)[1];
        GroupFit fit = GroupFit.fit(v, new int[] {0, 1}, new GroupFit.Method(false, Pooling.LEAST_SQUARES, true));
        for (double[] c : fit.coefficients()) for (double x : c) assertTrue(Double.isFinite(x));
        // Head 1 is unread: the pooled head is (almost exactly) head 0.
        assertTrue(Dense.maxAbsDiff(fit.coefficients()[0], Dense.identity(D)) < 1e-3);
        assertTrue(Dense.maxAbsDiff(fit.coefficients()[1], new double[D * D]) < 1e-3);
        assertTrue(fit.error() < 1e-6 * v.energy(true));
    }

    @Test void singleHeadGroupsAreLossless() {
        Random r = new Random(34);
        LayerWeights w = Fixtures.randomLayer(r, HIDDEN, HEADS, D);
        double[] sigma = Fixtures.spd(r, HIDDEN);
        HeadStats k = HeadStats.of(w, sigma, sigma)[0];
        assertEquals(0, GroupFit.fit(k, new int[] {2}, new GroupFit.Method(true, Pooling.LEAST_SQUARES, true)).error(), 1e-9);
    }
}
