package io.headfuse.fusion.dha;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Random;
import org.junit.jupiter.api.Test;

class FusionOperatorsTest {
    private static float[][] members(Random r, int m, int n) {
        float[][] w = new float[m][n];
        for (float[] row : w) for (int i = 0; i < n; i++) row[i] = (float) r.nextGaussian();
        return w;
    }

    @Test void identityLeavesEveryMemberAsItWas() {
        float[][] w = members(new Random(1), 3, 40);
        float[][] out = FusionOperators.apply(w, FusionOperators.identity(3));
        for (int i = 0; i < 3; i++) assertArrayEquals(w[i], out[i]);
    }

    /** The fusion loss at the identity is the members' scatter around their mean, computed here directly. */
    @Test void lossAtIdentityIsTheScatter() {
        float[][] w = members(new Random(2), 4, 30);
        double expect = 0;
        for (int p = 0; p < 30; p++) {
            double mean = 0;
            for (float[] row : w) mean += row[p];
            mean /= 4;
            for (float[] row : w) expect += (row[p] - mean) * (row[p] - mean);
        }
        assertEquals(expect, FusionOperators.fusionLoss(FusionOperators.apply(w, FusionOperators.identity(4))), 1e-9 * expect);
    }

    /** omega with every row 1/m makes every member the mean: loss zero, and the fused head is that mean. */
    @Test void averagingOperatorFusesTheGroup() {
        float[][] w = members(new Random(3), 3, 25);
        double[][] avg = {{1 / 3.0, 1 / 3.0, 1 / 3.0}, {1 / 3.0, 1 / 3.0, 1 / 3.0}, {1 / 3.0, 1 / 3.0, 1 / 3.0}};
        float[][] out = FusionOperators.apply(w, avg);
        assertEquals(0, FusionOperators.fusionLoss(out), 1e-10);
        float[] f = FusionOperators.fusedHead(w);
        for (float[] row : out) assertArrayEquals(f, row, 1e-6f);
    }

    @Test void membersAndPutAreInverse() {
        float[] proj = new float[5 * 2 * 3];
        for (int i = 0; i < proj.length; i++) proj[i] = i;
        int[] heads = {4, 1};
        float[][] m = FusionOperators.members(proj, heads, 2, 3);
        assertArrayEquals(new float[] {24, 25, 26, 27, 28, 29}, m[0]);
        float[] copy = new float[proj.length];
        FusionOperators.put(copy, heads, m);
        for (int h : heads) for (int i = h * 6; i < h * 6 + 6; i++) assertEquals(proj[i], copy[i]);
    }
}
