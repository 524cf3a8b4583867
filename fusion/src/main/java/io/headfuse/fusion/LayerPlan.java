package io.headfuse.fusion;

import java.util.Arrays;

/**
 * The grouping of one layer: {@code kGroups[g]} lists the query heads whose keys kv head {@code g} replaces,
 * {@code vGroups[g]} the same for values. Mean-pooling and coupled strategies use one grouping for both.
 */
public record LayerPlan(int layer, int[][] kGroups, int[][] vGroups, double seconds) {
    public LayerPlan {
        kGroups = deepCopy(kGroups);
        vGroups = deepCopy(vGroups);
    }

    public boolean coupled() { return Arrays.deepEquals(kGroups, vGroups); }

    @Override public int[][] kGroups() { return deepCopy(kGroups); }
    @Override public int[][] vGroups() { return deepCopy(vGroups); }

    /** The contiguous grouping of the GQA paper: heads [g*n/kv, (g+1)*n/kv) share kv head g. */
    public static int[][] contiguous(int heads, int kv) {
        int size = heads / kv;
        int[][] groups = new int[kv][size];
        for (int g = 0; g < kv; g++) for (int j = 0; j < size; j++) groups[g][j] = g * size + j;
        return groups;
    }

    private static int[][] deepCopy(int[][] a) {
        int[][] c = new int[a.length][];
        for (int i = 0; i < a.length; i++) c[i] = a[i].clone();
        return c;
    }
}
