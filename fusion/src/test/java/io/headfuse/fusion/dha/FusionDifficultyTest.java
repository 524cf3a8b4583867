package io.headfuse.fusion.dha;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.headfuse.fusion.asym.GroupCost;
import io.headfuse.fusion.asym.HeadStats;
import io.headfuse.fusion.asym.LayerWeights;
import io.headfuse.fusion.asym.Ward;
import java.util.Random;
import org.junit.jupiter.api.Test;

class FusionDifficultyTest {
    private static HeadStats[] stats(long seed, int hidden, int heads, int d) {
        Random r = new Random(seed);
        int rows = heads * d;
        float[][] w = new float[4][rows * hidden];
        for (float[] a : w) for (int i = 0; i < a.length; i++) a[i] = (float) (r.nextGaussian() / Math.sqrt(hidden));
        // Heads 0 and 1 identical in K and V: merging them is free.
        for (int i = 0; i < d * hidden; i++) {
            w[1][d * hidden + i] = w[1][i];
            w[2][d * hidden + i] = w[2][i];
        }
        double[] m = new double[hidden * hidden];
        for (int i = 0; i < hidden; i++) m[i * hidden + i] = 1 + i % 3;
        return HeadStats.of(new LayerWeights(w[0], w[1], w[2], w[3], hidden, heads, d), m, m);
    }

    /** Every count gets a grouping with that many groups; the error is zero with all heads and with the free merge. */
    @Test void pricesEveryCountAndSeesFreeMerges() {
        HeadStats[] s = stats(4, 16, 6, 4);
        for (HeadStats h : s) {
            FusionDifficulty f = FusionDifficulty.measure(0, h);
            for (int c = 1; c <= 6; c++) assertEquals(c, f.grouping(c).groups());
            assertEquals(0, f.error(6), 1e-12);
            assertEquals(0, f.error(5), 1e-6, "heads 0 and 1 are identical");
            assertEquals(f.grouping(5).groupOf(0), f.grouping(5).groupOf(1));
            assertTrue(f.error(1) > f.error(3));
        }
    }

    /** The hierarchy's grouping at each count is what Ward.run gives for that count. */
    @Test void hierarchyAgreesWithWardRun() {
        HeadStats v = stats(5, 16, 6, 4)[1];
        GroupCost cost = GroupCost.poolError(v, FusionDifficulty.METHOD).cached();
        var byCount = Ward.hierarchy(6, cost);
        for (int c = 1; c <= 6; c++) assertEquals(Ward.run(6, c, cost), byCount.get(c - 1));
    }
}
