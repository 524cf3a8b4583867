package io.headfuse.fusion.asym;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;

class LayerFusionTest {
    static final int D = 6, HIDDEN = 24, HEADS = 8, T = 6;

    @Test void permutingQueryHeadsAloneKeepsTheLayer() {
        Random r = new Random(41);
        LayerWeights w = Fixtures.randomLayer(r, HIDDEN, HEADS, D);
        double[] x = Fixtures.toDouble(Fixtures.gauss(r, T * HIDDEN));
        int[] kMap = {0, 1, 2, 3, 0, 1, 2, 3}, vMap = {3, 3, 2, 2, 1, 1, 0, 0};
        int[] order = {5, 2, 7, 0, 1, 6, 3, 4};
        double[] before = Fixtures.attention(x, T, w.q(), w.k(), w.v(), w.o(), kMap, vMap, HIDDEN, D);
        double[] after = Fixtures.attention(x, T, HeadPermutation.rows(w.q(), order, D, HIDDEN), w.k(), w.v(),
                HeadPermutation.columns(w.o(), order, D, HIDDEN), HeadPermutation.map(kMap, order), HeadPermutation.map(vMap, order), HIDDEN, D);
        assertTrue(Dense.maxAbsDiff(before, after) < 1e-9);
    }

    @Test void coupledEqualGroupsComeOutAsStandardGqa() {
        Random r = new Random(42);
        LayerWeights w = Fixtures.familyLayer(r, HIDDEN, HEADS, D, 4, 0.2 / Math.sqrt(D * HIDDEN));
        double[] sigma = Fixtures.spd(r, HIDDEN);
        AsymOptions o = AsymOptions.defaults(4).withCoupled(true).withAlign(true);
        LayerFusion.Result res = LayerFusion.fuse(0, w, sigma, sigma, o);
        assertTrue(res.plan().standard());
        assertTrue(res.layer().standard());
        assertEquals(4 * D * HIDDEN, res.layer().k().length);
        // The permuted standard layer computes what the unpermuted layer with head maps computes.
        HeadStats[] kv = HeadStats.of(w, sigma, sigma);
        GroupFit[] kf = Folding.fits(kv[0], res.plan().k(), o.method()), vf = Folding.fits(kv[1], res.plan().v(), o.method());
        LayerWeights rot = Folding.rotate(w, kf, vf);
        float[][] pooled = Folding.pool(rot, kf, vf);
        double[] x = Fixtures.toDouble(Fixtures.gauss(r, T * HIDDEN));
        double[] withMaps = Fixtures.attention(x, T, rot.q(), pooled[0], pooled[1], rot.o(), res.plan().k().groupOf(), res.plan().v().groupOf(), HIDDEN, D);
        FusedLayer f = res.layer();
        double[] standard = Fixtures.attention(x, T, f.q(), f.k(), f.v(), f.o(), f.kMap(), f.vMap(), HIDDEN, D);
        assertTrue(Dense.maxAbsDiff(withMaps, standard) < 1e-9);
    }

    @Test void decoupledGroupsKeepHeadMaps() {
        Random r = new Random(43);
        LayerWeights w = Fixtures.randomLayer(r, HIDDEN, HEADS, D);
        double[] sigma = Fixtures.spd(r, HIDDEN);
        LayerFusion.Result res = LayerFusion.fuse(0, w, sigma, sigma, AsymOptions.defaults(2));
        assertArrayEquals(res.plan().k().groupOf(), res.layer().kMap());
        assertArrayEquals(res.plan().v().groupOf(), res.layer().vMap());
        // Random K and V weights: the search groups them differently, so the layer needs head maps.
        assertFalse(res.plan().shared(), "K and V grouped alike on random weights");
        assertFalse(res.layer().standard());
        // The search starts from contiguous mean pooling, so "not worse" would hold by construction: pin what it
        // finds instead (measured when written: K 0.690288 vs contiguous 0.730309, V 0.687856 vs 0.794015).
        assertEquals(0.730309, res.plan().kBaseline(), 1e-5);
        assertEquals(0.794015, res.plan().vBaseline(), 1e-5);
        assertEquals(0.690288, res.plan().kError(), 1e-5, "K error of the chosen groups");
        assertEquals(0.687856, res.plan().vError(), 1e-5, "V error of the chosen groups");
    }

    @Test void fusionReducesTheLayerErrorAgainstMeanPooling() {
        Random r = new Random(44);
        LayerWeights w = Fixtures.familyLayer(r, HIDDEN, HEADS, D, 4, 0.5 / Math.sqrt(D * HIDDEN));
        double[] sigma = Fixtures.spd(r, HIDDEN);
        double[] x = Fixtures.toDouble(Fixtures.gauss(r, T * HIDDEN));
        int[] id = Fixtures.identity(HEADS);
        double[] exact = Fixtures.attention(x, T, w.q(), w.k(), w.v(), w.o(), id, id, HIDDEN, D);
        double mean = layerError(w, exact, x, LayerFusion.fuse(0, w, sigma, sigma, AsymOptions.defaults(4).withRestarts(1).withObjective(AsymOptions.Objective.SIMILARITY)).layer(), true);
        double asym = layerError(w, exact, x, LayerFusion.fuse(0, w, sigma, sigma, AsymOptions.defaults(4)).layer(), false);
        // Measured when written: asym 0.003342 against 0.006179 for contiguous mean pooling (computed apart, by
        // layerError's own re-pooling): asym must keep most of that margin, not merely be below.
        assertTrue(asym < 0.7 * mean, "asym " + asym + " vs mean " + mean);
    }

    /** Squared error of the fused layer's output; {@code contiguousMean} re-pools the weights as mean-pooling does. */
    static double layerError(LayerWeights w, double[] exact, double[] x, FusedLayer f, boolean contiguousMean) {
        if (contiguousMean) {
            HeadStats[] kv = HeadStats.of(w, Dense.identity(HIDDEN), Dense.identity(HIDDEN));
            Grouping g = Grouping.contiguous(HEADS, 4);
            GroupFit[] kf = Folding.fits(kv[0], g, GroupFit.Method.MEAN_POOL), vf = Folding.fits(kv[1], g, GroupFit.Method.MEAN_POOL);
            float[][] pooled = Folding.pool(w, kf, vf);
            f = new FusedLayer(w.q(), pooled[0], pooled[1], w.o(), g.groupOf(), g.groupOf(), Fixtures.identity(HEADS), 4);
        }
        double[] got = Fixtures.attention(x, T, f.q(), f.k(), f.v(), f.o(), f.kMap(), f.vMap(), HIDDEN, D);
        double e = 0;
        for (int i = 0; i < got.length; i++) e += (got[i] - exact[i]) * (got[i] - exact[i]);
        return e;
    }
}
