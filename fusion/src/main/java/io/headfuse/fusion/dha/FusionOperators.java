package io.headfuse.fusion.dha;

/**
 * The maths of DHA's fusion operators on plain arrays, for the trainer to drive and tests to check. A group of m
 * heads has projections W_1..W_m (each d x hidden, row-major, flattened) and an m x m operator omega; member i
 * becomes W'_i = sum_j omega_ij W_j. omega = I leaves every head as it was (the model starts as the teacher);
 * the fusion loss sum_i |W'_i - F|^2, F = (1/m) sum_j W'_j the fused head, is zero exactly when all members
 * coincide, and then the group collapses to F at no cost. Sums in double, results in fp32 like the weights.
 */
public final class FusionOperators {
    private FusionOperators() {}

    /** The m x m identity: the operator every group starts from. */
    public static double[][] identity(int m) {
        double[][] w = new double[m][m];
        for (int i = 0; i < m; i++) w[i][i] = 1;
        return w;
    }

    /** W'_i = sum_j omega[i][j] W_j for every member i. */
    public static float[][] apply(float[][] members, double[][] omega) {
        int m = members.length;
        if (omega.length != m) throw new IllegalArgumentException("operator is " + omega.length + " x ?, group has " + m + " members");
        int n = members[0].length;
        float[][] out = new float[m][n];
        double[] acc = new double[n];
        for (int i = 0; i < m; i++) {
            if (omega[i].length != m) throw new IllegalArgumentException("operator row " + i + " has " + omega[i].length + " entries, group has " + m);
            java.util.Arrays.fill(acc, 0);
            for (int j = 0; j < m; j++) {
                double w = omega[i][j];
                if (w == 0) continue;
                float[] src = members[j];
                if (src.length != n) throw new IllegalArgumentException("member " + j + " has " + src.length + " values, member 0 " + n);
                for (int p = 0; p < n; p++) acc[p] += w * src[p];
            }
            for (int p = 0; p < n; p++) out[i][p] = (float) acc[p];
        }
        return out;
    }

    /** F = (1/m) sum_i W'_i: the head the group's members are driven to and collapse into. */
    public static float[] fusedHead(float[][] projections) {
        int m = projections.length, n = projections[0].length;
        double[] acc = new double[n];
        for (float[] w : projections) for (int p = 0; p < n; p++) acc[p] += w[p];
        float[] f = new float[n];
        for (int p = 0; p < n; p++) f[p] = (float) (acc[p] / m);
        return f;
    }

    /** sum_i |W'_i - F|^2 with F = {@link #fusedHead}: the gap the augmented Lagrangian drives to zero. */
    public static double fusionLoss(float[][] projections) {
        float[] f = fusedHead(projections);
        double s = 0;
        for (float[] w : projections)
            for (int p = 0; p < f.length; p++) {
                double e = (double) w[p] - f[p];
                s += e * e;
            }
        return s;
    }

    /** The row block of each member head of a [heads * d, hidden] projection: the W_j a group's operator mixes. */
    public static float[][] members(float[] proj, int[] heads, int d, int hidden) {
        float[][] out = new float[heads.length][];
        int block = d * hidden;
        for (int a = 0; a < heads.length; a++) out[a] = java.util.Arrays.copyOfRange(proj, heads[a] * block, (heads[a] + 1) * block);
        return out;
    }

    /** Writes member blocks back into a [heads * d, hidden] projection (the inverse of {@link #members}). */
    public static void put(float[] proj, int[] heads, float[][] blocks) {
        for (int a = 0; a < heads.length; a++) System.arraycopy(blocks[a], 0, proj, heads[a] * blocks[a].length, blocks[a].length);
    }
}
