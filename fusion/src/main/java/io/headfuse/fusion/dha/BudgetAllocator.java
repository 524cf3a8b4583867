package io.headfuse.fusion.dha;

import java.util.Arrays;

/**
 * Splits a total head budget among items (one item per layer and type, K or V) to minimise the summed fusion
 * difficulty: choose counts c_i in [min, max] with sum c_i = total minimising sum e_i(c_i), where e_i(c) is item
 * i's reconstruction error with c heads. Solved exactly by dynamic programming over (item, heads used so far):
 * O(items x total x (max - min + 1)), trivial at model scale (2 x 32 layers x 256 x 32 for Llama-2-7B at N = 8).
 * Unlike a greedy marginal-gain allocation it needs no convexity of e_i, which Ward errors do not guarantee.
 * Deterministic: ties go to fewer heads for the earlier item.
 */
public final class BudgetAllocator {
    private BudgetAllocator() {}

    /**
     * @param errors {@code errors[i][c - 1]} is item i's error with c heads (c = 1..H); must cover [min, max]
     * @return the count of every item
     */
    public static int[] allocate(double[][] errors, int total, int min, int max) {
        int n = errors.length;
        if (n == 0) throw new IllegalArgumentException("nothing to allocate");
        if (min < 1 || max < min) throw new IllegalArgumentException("per-item range [" + min + ", " + max + "] is empty");
        if (total < (long) n * min || total > (long) n * max)
            throw new IllegalArgumentException("a total of " + total + " heads cannot be split into " + n + " counts in [" + min + ", " + max + "]");
        for (double[] e : errors)
            if (e.length < max) throw new IllegalArgumentException("errors cover " + e.length + " counts, need " + max);
        // best[i][b]: least error of items i.. using exactly b heads; choice[i][b]: item i's count there.
        double[][] best = new double[n + 1][total + 1];
        int[][] choice = new int[n][total + 1];
        for (double[] row : best) Arrays.fill(row, Double.POSITIVE_INFINITY);
        best[n][0] = 0;
        for (int i = n - 1; i >= 0; i--)
            for (int b = 0; b <= total; b++)
                for (int c = min; c <= Math.min(max, b); c++) {
                    double v = errors[i][c - 1] + best[i + 1][b - c];
                    if (v < best[i][b]) {
                        best[i][b] = v;
                        choice[i][b] = c;
                    }
                }
        int[] counts = new int[n];
        for (int i = 0, b = total; i < n; i++) {
            counts[i] = choice[i][b];
            b -= counts[i];
        }
        return counts;
    }

    /** sum_i errors[i][counts[i] - 1]: what an allocation costs. */
    public static double cost(double[][] errors, int[] counts) {
        double s = 0;
        for (int i = 0; i < counts.length; i++) s += errors[i][counts[i] - 1];
        return s;
    }
}
