package io.headfuse.fusion.linalg;

/**
 * The orthogonal polar factor U V^T of a square M = U S V^T by the scaled Newton iteration
 * X <- (z X + X^-T / z) / 2 from X = M (Higham, Functions of Matrices, ch. 8): each step maps every singular value
 * s to (z s + 1 / (z s)) / 2 and leaves the singular vectors alone, so the iterates converge to U V^T, quadratically
 * once the singular values are near 1. The scale z = (|X^-1|_1 |X^-1|_inf / (|X|_1 |X|_inf))^(1/4) balances the
 * largest and the smallest singular value ((1, inf)-norm scaling: on these matrices a step fewer than the Frobenius
 * norm's, whose sums the bulk of the spectrum dominates) until the step is small, then z = 1 for the quadratic end
 * game.
 *
 * <p>Why not the SVD: one step costs one Gauss-Jordan inversion (n^3 multiply-adds in row updates that vectorise,
 * 0.24 ms at n = 128), and the cross-statistics that V's alignment factors (condition numbers 10 to 10^4 at head
 * size 128) take 6 to 8 steps, about 2 ms, where one-sided Jacobi needs 8 ms from a warm start (several sweeps of
 * n^2 / 2 column rotations) and U V^T one more product.
 *
 * <p>Where the answer would differ from the SVD's by more than round-off, none is given: a matrix whose estimated
 * condition number is over {@link #MAX_CONDITION} (its polar factor is then ill-determined, and the SVD's
 * completion of a rank-deficient U is what callers have had), a pivot of zero, or no convergence in
 * {@link #MAX_STEPS} steps. The caller then takes the SVD route.
 */
final class NewtonPolar {
    /**
     * |M|_F |M^-1|_F above which the SVD is used instead. The two routes differ by about eps times the condition
     * number (both are backward stable, and the polar factor moves by |dM| / s_min); on random 128 x 128 matrices
     * by 4e-14 at condition 1e4 and 2e-11 at 1e7, the limit. The cross-statistics V's alignment factors in
     * headfuse-mha-m reach 4e5 and agree to 2e-14 (converter's LinalgBackendsTest).
     */
    static final double MAX_CONDITION = 1e7;
    /** 6 to 8 steps on the cross-statistics, about 10 at condition 1e6; the rest is margin. */
    static final int MAX_STEPS = 20;
    /** Relative step below which scaling is switched off: z is within ~1e-3 of 1 by then and only slows the end. */
    private static final double UNSCALED_BELOW = 1e-2;
    /**
     * Absolute step (Frobenius) at which the next iterate is already converged: near U V^T each singular value's
     * error e becomes e^2 / (2 (1 + e)), so the iterate just computed, one step past a change of 1e-7, is within
     * ~5e-15 of U V^T; the step that would confirm it is skipped.
     */
    private static final double CONVERGED_STEP = 1e-7;

    private NewtonPolar() {}

    /** U V^T for the n x n row-major M; null where the SVD must decide (see the class comment). */
    static double[] of(double[] m, int n) {
        // Rows as arrays of their own: the row updates below then vectorise (on one flat array C2 cannot tell
        // the row being updated from the pivot row, and the inversion runs 2.5x slower).
        double[][] x = new double[n][n], inv = new double[n][n];
        for (int i = 0; i < n; i++) System.arraycopy(m, i * n, x[i], 0, n);
        int[] perm = new int[n];
        double[] row = new double[n];
        boolean scaled = true;
        for (int step = 0; step < MAX_STEPS; step++) {
            // X^-T as the inverse of X^T, so the step below combines rows with rows.
            for (int i = 0; i < n; i++)
                for (int j = 0; j < n; j++) inv[j][i] = x[i][j];
            if (!invert(inv, n, perm, row)) return null;
            if (step == 0 && !(frobenius(x) * frobenius(inv) <= MAX_CONDITION)) return null;
            double z = scaled ? Math.pow(norm1(inv) * normInf(inv) / (norm1(x) * normInf(x)), 0.25) : 1;
            double half = 0.5 * z, halfInv = 0.5 / z, change = 0, size = 0;
            for (int i = 0; i < n; i++) {
                double[] xi = x[i], yi = inv[i];
                for (int j = 0; j < n; j++) {
                    double v = half * xi[j] + halfInv * yi[j];
                    double dv = v - xi[j];
                    change += dv * dv;
                    size += v * v;
                    xi[j] = v;
                }
            }
            change = Math.sqrt(change);
            if (!Double.isFinite(change)) return null;
            if (!scaled && change <= CONVERGED_STEP) {
                double[] out = new double[n * n];
                for (int i = 0; i < n; i++) System.arraycopy(x[i], 0, out, i * n, n);
                return out;
            }
            if (change <= UNSCALED_BELOW * Math.sqrt(size)) scaled = false;
        }
        return null;
    }

    /**
     * A^-1 in place (rows of A) by Gauss-Jordan elimination with partial pivoting; false when a pivot is zero or
     * not finite. Two pivots per pass over the other rows: each of them takes both eliminations in one row update
     * (half the loads and stores of the rows, 1.5x faster at n = 128; the sums differ from one pivot at a time by
     * round-off). Rows are swapped as references and the swaps undone on the columns at the end
     * ((P A)^-1 P = A^-1).
     */
    static boolean invert(double[][] a, int n, int[] perm, double[] row) {
        for (int i = 0; i < n; i++) perm[i] = i;
        int k = 0;
        for (; k + 1 < n; k += 2) {
            // Pivot k, its row scaled (the in-place trick: a[k][k] becomes 1 / pivot).
            if (!pivot(a, n, perm, k, k, 0)) return false;
            double[] pk = a[k];
            scale(pk, k, n);
            // Pivot k + 1 among the rows as pivot k's elimination would leave them; that row eliminated, scaled.
            double c = pk[k + 1];
            if (!pivot(a, n, perm, k + 1, k + 1, c)) return false;
            double[] pl = a[k + 1];
            double f0 = pl[k];
            pl[k] = 0;
            for (int j = 0; j < n; j++) pl[j] -= f0 * pk[j];
            scale(pl, k + 1, n);
            // Every other row: ai - f pk (pivot k), then - g pl (pivot k + 1) with g its column k + 1 after the first.
            for (int i = 0; i < n; i++) {
                if (i == k || i == k + 1) continue;
                double[] ai = a[i];
                double f = ai[k], g = ai[k + 1] - f * c;
                if (f == 0 && g == 0) continue;
                ai[k] = 0;
                ai[k + 1] = 0;
                for (int j = 0; j < n; j++) ai[j] -= f * pk[j] + g * pl[j];
                ai[k + 1] = -g * pl[k + 1]; // column k + 1 was g after the first elimination, zeroed by the second
            }
            // Pivot k's row takes pivot k + 1's elimination last: the other rows needed it as it was.
            pk[k + 1] = 0;
            for (int j = 0; j < n; j++) pk[j] -= c * pl[j];
        }
        for (; k < n; k++) {
            if (!pivot(a, n, perm, k, k, 0)) return false;
            double[] pk = a[k];
            scale(pk, k, n);
            for (int i = 0; i < n; i++) {
                double[] ai = a[i];
                double f = ai[k];
                if (i == k || f == 0) continue;
                ai[k] = 0;
                for (int j = 0; j < n; j++) ai[j] -= f * pk[j];
            }
        }
        for (double[] ai : a) {
            for (int j = 0; j < n; j++) row[perm[j]] = ai[j];
            System.arraycopy(row, 0, ai, 0, n);
        }
        return true;
    }

    /**
     * Swaps into row k the row i >= k with the largest |a[i][col] - a[i][col - 1] c| (c = 0: |a[i][col]|, plain
     * partial pivoting; c = the scaled row above's a[k - 1][col]: column col as that row's elimination will leave
     * it). False when the largest is zero or not finite.
     */
    private static boolean pivot(double[][] a, int n, int[] perm, int k, int col, double c) {
        int p = k;
        double best = -1;
        for (int i = k; i < n; i++) {
            double v = Math.abs(c == 0 ? a[i][col] : a[i][col] - a[i][col - 1] * c);
            if (v > best) {
                best = v;
                p = i;
            }
        }
        if (!(best > 0) || !Double.isFinite(best)) return false;
        if (p != k) {
            double[] t = a[k];
            a[k] = a[p];
            a[p] = t;
            int ti = perm[k];
            perm[k] = perm[p];
            perm[p] = ti;
        }
        return true;
    }

    /** Row k divided by its pivot a[k][k], which becomes 1 / pivot (the inverse's entry in the in-place scheme). */
    private static void scale(double[] row, int k, int n) {
        double inv = 1 / row[k];
        row[k] = 1;
        for (int j = 0; j < n; j++) row[j] *= inv;
    }

    private static double frobenius(double[][] a) {
        double s = 0;
        for (double[] r : a)
            for (double v : r) s += v * v;
        return Math.sqrt(s);
    }

    /** Largest column sum of |a_ij|. */
    private static double norm1(double[][] a) {
        double[] col = new double[a.length];
        for (double[] r : a)
            for (int j = 0; j < r.length; j++) col[j] += Math.abs(r[j]);
        double m = 0;
        for (double v : col) m = Math.max(m, v);
        return m;
    }

    /** Largest row sum of |a_ij|. */
    private static double normInf(double[][] a) {
        double m = 0;
        for (double[] r : a) {
            double s = 0;
            for (double v : r) s += Math.abs(v);
            m = Math.max(m, s);
        }
        return m;
    }
}
