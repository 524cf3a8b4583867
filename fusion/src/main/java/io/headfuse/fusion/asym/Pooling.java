package io.headfuse.fusion.asym;

/**
 * How a group's (aligned) heads become the one kv head they share: pooled = sum_j C_j h_j for d x d
 * coefficients C_j.
 */
public enum Pooling {
    /** C_j = I/m: the plain mean, what mean-pooling does. */
    MEAN,
    /**
     * The head that best reproduces what the model computes from each member, min_h sum_i tr(W_i (h_i - h) Sigma
     * (h_i - h)^T) with W_i the member's metric (query second moment for K, O_i^T O_i for V):
     * h = (sum W_i)^-1 sum W_i h_i, independent of Sigma. Regularised towards the mean, + lambda |h - mean|^2 with
     * lambda a small fraction of sum W_i's mean eigenvalue, so directions no member's metric sees stay at the mean
     * instead of being left to round-off.
     */
    LEAST_SQUARES;

    /** Weight of the pull towards the mean, as a fraction of the summed metric's mean eigenvalue. */
    public static final double RIDGE = 1e-4;

    /** The coefficients C_j for members with (already rotated) metrics {@code metrics}. */
    double[][] coefficients(double[][] metrics, int d) {
        int m = metrics.length;
        double[][] c = new double[m][];
        if (this == MEAN || m == 1) {
            for (int a = 0; a < m; a++) c[a] = Dense.scale(Dense.identity(d), 1.0 / m);
            return c;
        }
        double[] sum = new double[d * d];
        for (double[] w : metrics) Dense.addInto(sum, w, 1);
        double lambda = RIDGE * Math.max(Dense.trace(sum, d) / d, Double.MIN_NORMAL);
        for (int i = 0; i < d; i++) sum[i * d + i] += lambda;
        // Solve for all members at once: [C_1 .. C_m] = (A + lambda I)^-1 [W_1 + lambda/m I .. W_m + lambda/m I].
        double[] rhs = new double[d * d * m];
        for (int a = 0; a < m; a++) {
            for (int r = 0; r < d; r++) System.arraycopy(metrics[a], r * d, rhs, r * d * m + a * d, d);
            for (int r = 0; r < d; r++) rhs[r * d * m + a * d + r] += lambda / m;
        }
        // sum + lambda I is positive definite (lambda > 0): Cholesky, a third of a d x d product, where the SVD
        // route costs a Jacobi SVD; a pivot lost to round-off falls back to it.
        double[] sol = Dense.choleskySolve(sum, rhs, d, d * m);
        if (sol == null) sol = Linalg.solveSpd(sum, rhs, d, d * m, 0);
        for (int a = 0; a < m; a++) {
            c[a] = new double[d * d];
            for (int r = 0; r < d; r++) System.arraycopy(sol, r * d * m + a * d, c[a], r * d, d);
        }
        return c;
    }
}
