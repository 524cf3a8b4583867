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
        // Rotated metrics W'_a = R_a W_a R_a^T; the moments stay unrotated (the error below folds R in).
        double[][] w = new double[m][], w0 = new double[m][];
        double[][][] g = new double[m][m][];
        for (int a = 0; a < m; a++) {
            for (int b = 0; b < m; b++) g[a][b] = s.moment()[members[a]][members[b]];
            w0[a] = method.weighted() ? s.metric()[members[a]] : Dense.identity(d);
            w[a] = r == null || !method.weighted() ? w0[a] : Dense.sandwich(r[a], w0[a], r[a], d);
        }
        double[][] c = method.pooling().coefficients(w, d);
        if (r == null) {
            r = new double[m][];
            for (int a = 0; a < m; a++) r[a] = Dense.identity(d);
        }
        return new GroupFit(members.clone(), r, c, error(g, w0, w, r, c, d));
    }

    /**
     * sum_i tr(W'_i E[(R_i h_i - p)(R_i h_i - p)^T]) for the pooled head p = sum_j C_j R_j h_j = sum_j D_j h_j,
     * in the heads' own frame: with Q_i = E[h_i p^T] = sum_j G_ij D_j^T and S = E[p p^T] = sum_j D_j Q_j it is
     * sum_i tr(W_i G_ii) - 2 tr(W'_i R_i Q_i) + tr(W'_i S) (tr(W'_i R_i G_ii R_i^T) = tr(W_i G_ii) as W'_i =
     * R_i W_i R_i^T). The same quantity as rotating every block G_ij first, in m^2 + 3m d x d products instead
     * of 2m^2 + m (m + 1) + m^2: pricing a candidate group is what the swap search spends its time on.
     */
    static double error(double[][][] g, double[][] w0, double[][] w, double[][] r, double[][] c, int d) {
        int m = g.length;
        double[][] dt = new double[m][];
        for (int j = 0; j < m; j++) dt[j] = Dense.mul(Dense.transpose(r[j], d, d), Dense.transpose(c[j], d, d), d); // D_j^T = R_j^T C_j^T
        double[] shared = new double[d * d];
        double[][] q = new double[m][];
        for (int i = 0; i < m; i++) {
            double[] qi = new double[d * d];
            for (int j = 0; j < m; j++) Dense.addInto(qi, Dense.mul(g[i][j], dt[j], d), 1);
            q[i] = qi;
        }
        for (int j = 0; j < m; j++) Dense.addInto(shared, Dense.mul(Dense.transpose(dt[j], d, d), q[j], d), 1);
        double err = 0;
        for (int i = 0; i < m; i++) {
            // W'_i R_i, as (R_i^T W'_i)^T (W' is symmetric): a left product by R^T is cheap for RoPE-plane rotations.
            double[] wr = Dense.transpose(Dense.mul(Dense.transpose(r[i], d, d), w[i], d), d, d);
            err += Dense.traceOfProduct(w0[i], g[i][i], d) - 2 * Dense.traceOfProduct(wr, q[i], d) + Dense.traceOfProduct(w[i], shared, d);
        }
        return Math.max(err, 0);
    }
}
