package io.headfuse.fusion.asym;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;

class GroupingTest {
    static final int D = 6, HIDDEN = 24, HEADS = 8;

    HeadStats[] stats(long seed) {
        Random r = new Random(seed);
        LayerWeights w = Fixtures.familyLayer(r, HIDDEN, HEADS, D, 3, 0.3 / Math.sqrt(D * HIDDEN));
        double[] sigma = Fixtures.spd(r, HIDDEN);
        return HeadStats.of(w, sigma, sigma);
    }

    @Test void canonicalLabels() {
        Grouping g = new Grouping(new int[] {2, 2, 0, 1}, 3);
        assertArrayEquals(new int[] {0, 0, 1, 2}, g.groupOf());
        assertEquals("[0 1][2][3]", g.toString());
        assertTrue(Grouping.contiguous(8, 4).isContiguous());
        assertEquals(Grouping.of(new int[][] {{1, 3}, {0, 2}}), new Grouping(new int[] {0, 1, 0, 1}, 2));
    }

    @Test void searchIsDeterministicForASeedAndNeverWorseThanItsStart() {
        HeadStats k = stats(21)[0];
        for (int groups : new int[] {4, 2}) {
            GroupCost cost = GroupCost.poolError(k, GroupFit.Method.MEAN_POOL).cached();
            LocalSearch.Result a = LocalSearch.run(HEADS, groups, cost, 7, 6);
            LocalSearch.Result b = LocalSearch.run(HEADS, groups, GroupCost.poolError(k, GroupFit.Method.MEAN_POOL), 7, 6);
            assertEquals(a.grouping(), b.grouping());
            assertEquals(a.cost(), b.cost(), 1e-12);
            assertTrue(a.cost() <= a.startCost() + 1e-12);
            assertTrue(a.grouping().equalSizes());
            assertEquals(a.cost(), cost.total(a.grouping()), 1e-12);
            // Every descent ends no worse than where it began, from any start.
            Random r = new Random(3);
            for (int t = 0; t < 5; t++) {
                int[] start = Grouping.contiguous(HEADS, groups).groupOf();
                for (int i = HEADS - 1; i > 0; i--) { int j = r.nextInt(i + 1); int x = start[i]; start[i] = start[j]; start[j] = x; }
                LocalSearch.Result d = LocalSearch.descend(start, groups, cost);
                assertTrue(d.cost() <= d.startCost() + 1e-12);
                assertEquals(cost.total(new Grouping(start, groups)), d.startCost(), 1e-12);
            }
        }
    }

    @Test void searchFindsTheOptimumOfSmallProblems() {
        HeadStats v = stats(22)[1];
        GroupCost cost = GroupCost.poolError(v, new GroupFit.Method(true, Pooling.MEAN, true)).cached();
        LocalSearch.Result res = LocalSearch.run(HEADS, 4, cost, 1, 8);
        double best = bruteForcePairs(cost, new int[HEADS], 0, new boolean[HEADS]);
        assertEquals(best, res.cost(), 1e-9);
    }

    /** Minimum total over all 105 pairings of 8 heads. */
    static double bruteForcePairs(GroupCost cost, int[] unused, int depth, boolean[] taken) {
        int first = -1;
        for (int h = 0; h < taken.length; h++) if (!taken[h]) { first = h; break; }
        if (first < 0) return 0;
        double best = Double.POSITIVE_INFINITY;
        taken[first] = true;
        for (int h = first + 1; h < taken.length; h++) {
            if (taken[h]) continue;
            taken[h] = true;
            best = Math.min(best, cost.cost(new int[] {first, h}) + bruteForcePairs(cost, unused, depth + 1, taken));
            taken[h] = false;
        }
        taken[first] = false;
        return best;
    }

    @Test void wardMakesTheAskedNumberOfGroups() {
        HeadStats k = stats(23)[0];
        for (int groups : new int[] {1, 3, 5, 8}) {
            Grouping g = Ward.run(HEADS, groups, GroupCost.poolError(k, GroupFit.Method.MEAN_POOL).cached());
            assertEquals(groups, g.groups());
            assertEquals(HEADS, g.heads());
        }
        double[][] sim = new Cosine().matrix(k);
        Grouping g = Ward.run(HEADS, 3, GroupCost.dissimilarity(sim));
        assertEquals(3, g.groups());
    }

    @Test void similaritiesAreSymmetricWithUnitDiagonal() {
        HeadStats[] kv = stats(24);
        for (HeadSimilarity s : HeadSimilarity.all())
            for (HeadStats st : kv) {
                double[][] m = s.matrix(st);
                for (int i = 0; i < HEADS; i++) {
                    assertEquals(1, m[i][i], 1e-9, s.name());
                    for (int j = 0; j < HEADS; j++) {
                        assertEquals(m[i][j], m[j][i], 1e-9);
                        assertTrue(m[i][j] <= 1 + 1e-9 && (s instanceof Cosine || m[i][j] >= -1e-12));
                    }
                }
            }
    }

    @Test void ckaIsInvariantToRotatingAHead() {
        Random r = new Random(25);
        LayerWeights w = Fixtures.randomLayer(r, HIDDEN, 4, D);
        double[] sigma = Fixtures.spd(r, HIDDEN);
        double[][] before = new LinearCka().matrix(HeadStats.of(w, sigma, sigma)[1]);
        Grouping g = Grouping.of(new int[][] {{0, 1, 2, 3}});
        GroupFit.Method m = new GroupFit.Method(true, Pooling.MEAN, false);
        HeadStats[] s0 = HeadStats.of(w, sigma, sigma);
        LayerWeights rot = Folding.rotate(w, Folding.fits(s0[0], g, m), Folding.fits(s0[1], g, m));
        double[][] after = new LinearCka().matrix(HeadStats.of(rot, sigma, sigma)[1]);
        for (int i = 0; i < 4; i++) for (int j = 0; j < 4; j++) assertEquals(before[i][j], after[i][j], 1e-5);
    }
}
