package io.headfuse.fusion.linalg;

/** An SVD M = U diag(S) V^T of a square n x n matrix; all row-major, singular values descending. */
public record Svd(double[] u, double[] s, double[] vt) {

    /**
     * U V^T, the orthogonal polar factor of M. Summed four terms at a time in the order of asym's d x d products
     * (Dense.mul), which computed it before backends had {@link LinalgBackend#polar}: the same bits as then.
     */
    public double[] polar() {
        int n = s.length;
        double[] out = new double[n * n];
        for (int i = 0; i < n; i++) {
            int oi = i * n, ai = i * n, p = 0;
            for (; p + 3 < n; p += 4) {
                double x0 = u[ai + p], x1 = u[ai + p + 1], x2 = u[ai + p + 2], x3 = u[ai + p + 3];
                int b0 = p * n, b1 = b0 + n, b2 = b1 + n, b3 = b2 + n;
                for (int j = 0; j < n; j++) out[oi + j] += x0 * vt[b0 + j] + x1 * vt[b1 + j] + x2 * vt[b2 + j] + x3 * vt[b3 + j];
            }
            for (; p < n; p++) {
                double x = u[ai + p];
                int bp = p * n;
                for (int j = 0; j < n; j++) out[oi + j] += x * vt[bp + j];
            }
        }
        return out;
    }
}
