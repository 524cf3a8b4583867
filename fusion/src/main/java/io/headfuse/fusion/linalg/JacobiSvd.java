package io.headfuse.fusion.linalg;

/**
 * The SVD of a square matrix by one-sided (Hestenes) Jacobi: plane rotations applied to pairs of columns of A until
 * every pair is orthogonal to working precision; then the column norms are the singular values, the normalised
 * columns U, and the accumulated rotations V. Chosen over bidiagonalisation + QR because it is short, needs no
 * shifts or deflation logic, and is accurate to the last bits even for tiny singular values (relative accuracy),
 * which the regularised solves and the Procrustes rotations at head size (d = 64, 128) need.
 *
 * <p>Columns of A and V are kept as rows of A^T and V^T, so every rotation and dot product runs over contiguous
 * memory.
 */
final class JacobiSvd {
    private static final double EPS = Math.ulp(1.0);
    /** Far more than needed: cyclic Jacobi converges quadratically, in 6-10 sweeps at n = 128. */
    private static final int MAX_SWEEPS = 60;

    private JacobiSvd() {}

    static Svd of(double[] m, int n) {
        double[][] at = new double[n][n], vt = new double[n][n];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < n; j++) at[j][i] = m[i * n + j];
            vt[i][i] = 1;
        }
        return sweep(at, vt, n);
    }

    private static Svd sweep(double[][] at, double[][] vt, int n) {
        double[] norm = new double[n];
        for (int sweep = 0; sweep < MAX_SWEEPS; sweep++) {
            // Fresh squared norms each sweep; within it they are updated per rotation (exact in exact arithmetic).
            for (int j = 0; j < n; j++) norm[j] = dot(at[j], at[j]);
            boolean rotated = false;
            for (int p = 0; p < n - 1; p++)
                for (int q = p + 1; q < n; q++) {
                    double alpha = norm[p], beta = norm[q];
                    if (alpha == 0 || beta == 0) continue;
                    double gamma = dot(at[p], at[q]);
                    if (Math.abs(gamma) <= EPS * Math.sqrt(alpha * beta)) continue;
                    rotated = true;
                    double zeta = (beta - alpha) / (2 * gamma);
                    double t = Math.signum(zeta) / (Math.abs(zeta) + Math.sqrt(1 + zeta * zeta));
                    if (zeta == 0) t = 1;
                    double c = 1 / Math.sqrt(1 + t * t), s = c * t;
                    rotate(at[p], at[q], c, s);
                    rotate(vt[p], vt[q], c, s);
                    norm[p] = alpha - t * gamma;
                    norm[q] = beta + t * gamma;
                }
            if (!rotated) break;
        }
        return sorted(at, vt, n);
    }

    /** Columns (x, y) <- (c x - s y, s x + c y): the rotation that zeroes their inner product for the chosen t. */
    private static void rotate(double[] x, double[] y, double c, double s) {
        for (int k = 0; k < x.length; k++) {
            double a = x[k], b = y[k];
            x[k] = c * a - s * b;
            y[k] = s * a + c * b;
        }
    }

    /** Four partial sums: the reduction is not vectorised by C2, but four independent chains keep the FPU busy. */
    private static double dot(double[] x, double[] y) {
        double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
        int n = x.length, k = 0;
        for (; k + 3 < n; k += 4) {
            s0 += x[k] * y[k];
            s1 += x[k + 1] * y[k + 1];
            s2 += x[k + 2] * y[k + 2];
            s3 += x[k + 3] * y[k + 3];
        }
        for (; k < n; k++) s0 += x[k] * y[k];
        return (s0 + s1) + (s2 + s3);
    }

    /**
     * U, S, V^T with S descending. A column whose norm is negligible against the largest (a rank-deficient input)
     * has no direction of its own; U gets there a unit vector orthogonal to the others, so U stays orthogonal
     * (the polar factor U V^T must be a rotation or reflection even then).
     */
    private static Svd sorted(double[][] at, double[][] vt, int n) {
        double[] s = new double[n];
        Integer[] order = new Integer[n];
        for (int j = 0; j < n; j++) {
            s[j] = Math.sqrt(dot(at[j], at[j]));
            order[j] = j;
        }
        java.util.Arrays.sort(order, (x, y) -> Double.compare(s[y], s[x]));
        double floor = n * EPS * s[order[0]];
        double[][] ucols = new double[n][];
        double[] sv = new double[n], vtOut = new double[n * n];
        for (int r = 0; r < n; r++) {
            int j = order[r];
            sv[r] = s[j];
            System.arraycopy(vt[j], 0, vtOut, r * n, n);
            if (s[j] > floor && s[j] > 0) {
                ucols[r] = at[j].clone();
                for (int k = 0; k < n; k++) ucols[r][k] /= s[j];
            }
        }
        complete(ucols, n);
        double[] u = new double[n * n];
        for (int r = 0; r < n; r++)
            for (int k = 0; k < n; k++) u[k * n + r] = ucols[r][k];
        return new Svd(u, sv, vtOut);
    }

    /** Fills the missing columns with unit vectors orthogonal to all others (Gram-Schmidt twice on e_0, e_1, ...). */
    private static void complete(double[][] cols, int n) {
        int candidate = 0;
        for (int r = 0; r < n; r++) {
            if (cols[r] != null) continue;
            while (cols[r] == null) {
                double[] e = new double[n];
                e[candidate++ % n] = 1;
                for (int pass = 0; pass < 2; pass++)
                    for (double[] other : cols)
                        if (other != null) {
                            double proj = dot(other, e);
                            for (int k = 0; k < n; k++) e[k] -= proj * other[k];
                        }
                double len = Math.sqrt(dot(e, e));
                if (len > 0.5) {
                    for (int k = 0; k < n; k++) e[k] /= len;
                    cols[r] = e;
                }
            }
        }
    }
}
