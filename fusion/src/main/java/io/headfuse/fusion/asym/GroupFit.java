package io.headfuse.fusion.asym;

/**
 * How one group of heads is merged, and what that costs: the rotation of each member (identity without
 * alignment), the pooling coefficients on the rotated heads, and the reconstruction error
 * sum_i tr(W_i E[(h_i - pooled)(h_i - pooled)^T]) over the members (W_i = I when unweighted), all computed in
 * d x d block space from the head statistics, never from activations.
 */
public record GroupFit(int[] members, double[][] rotations, double[][] coefficients, double error) {

    /** What is done to a group: align first or not, how to pool, and whether errors are weighted by the metric. */
    public record Method(boolean align, Pooling pooling, boolean weighted) {
        public static final Method MEAN_POOL = new Method(false, Pooling.MEAN, true);
    }

    public static GroupFit fit(HeadStats s, int[] members, Method method) {
        int m = members.length, d = s.headDim();
        double[][] r = method.align() ? Alignment.rotations(s, members, Alignment.DEFAULT_ROUNDS) : null;
        // Rotated statistics: G'_ab = R_a G_ab R_b^T, W'_a = R_a W_a R_a^T.
        double[][][] g = new double[m][m][];
        double[][] w = new double[m][];
        for (int a = 0; a < m; a++) {
            for (int b = 0; b < m; b++) {
                double[] gab = s.moment()[members[a]][members[b]];
                g[a][b] = r == null ? gab : Dense.sandwich(r[a], gab, r[b], d);
            }
            double[] wa = method.weighted() ? s.metric()[members[a]] : Dense.identity(d);
            w[a] = r == null || !method.weighted() ? wa : Dense.sandwich(r[a], wa, r[a], d);
        }
        double[][] c = method.pooling().coefficients(w, d);
        if (r == null) {
            r = new double[m][];
            for (int a = 0; a < m; a++) r[a] = Dense.identity(d);
        }
        return new GroupFit(members.clone(), r, c, error(g, w, c, d, method.pooling() == Pooling.MEAN));
    }

    /**
     * sum_i tr(W_i E_i), E_i = G_ii - B_i - B_i^T + S with B_i = sum_j C_j G_ji and S = sum_jk C_j G_jk C_k^T
     * (S is shared by all members: the pooled head's own second moment).
     */
    static double error(double[][][] g, double[][] w, double[][] c, int d, boolean mean) {
        int m = g.length;
        double[] shared = new double[d * d];
        for (int j = 0; j < m; j++) {
            if (mean) {
                for (int k = 0; k < m; k++) Dense.addInto(shared, g[j][k], 1.0 / ((double) m * m));
            } else {
                double[] row = new double[d * d];
                for (int k = 0; k < m; k++) Dense.addInto(row, Dense.mulT(g[j][k], c[k], d), 1);
                Dense.addInto(shared, Dense.mul(c[j], row, d), 1);
            }
        }
        double err = 0;
        for (int i = 0; i < m; i++) {
            double cross = 0;
            for (int j = 0; j < m; j++)
                cross += mean ? Dense.traceOfProduct(w[i], g[j][i], d) / m
                              : Dense.traceOfProduct(w[i], Dense.mul(c[j], g[j][i], d), d);
            err += Dense.traceOfProduct(w[i], g[i][i], d) - 2 * cross + Dense.traceOfProduct(w[i], shared, d);
        }
        return Math.max(err, 0);
    }
}
