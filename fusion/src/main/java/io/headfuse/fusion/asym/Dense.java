package io.headfuse.fusion.asym;

/**
 * Small dense matrices as row-major {@code double[]}: the d x d blocks (d = head_dim) that every step of the
 * asym strategy works in. Plain loops are fast enough at this size; the large products go through {@link Linalg}.
 */
final class Dense {
    private Dense() {}

    static double[] identity(int n) {
        double[] a = new double[n * n];
        for (int i = 0; i < n; i++) a[i * n + i] = 1;
        return a;
    }

    /**
     * A (r x k) times B (k x c). Four rows of B per pass over a row of the result (a quarter of the loads and
     * stores of C; C2 vectorises the inner loop), except for a mostly-zero A (the RoPE-plane rotations, two
     * non-zeros a row), whose zero entries are skipped one by one instead. The rows of B and the row of C being
     * summed are held as arrays of their own: on offsets into one flat array the same loop runs 2.5x slower at
     * d = 128 (C2 vectorises it worse), and the sums are the same, term for term, so the bits are too.
     */
    static double[] mul(double[] a, double[] b, int r, int k, int c) {
        if (mostlyZero(a, r * k)) return mulSparseLeft(a, b, r, k, c);
        double[][] rows = new double[k][];
        for (int p = 0; p < k; p++) rows[p] = java.util.Arrays.copyOfRange(b, p * c, p * c + c);
        double[] out = new double[r * c], acc = new double[c];
        for (int i = 0; i < r; i++) {
            java.util.Arrays.fill(acc, 0);
            int ai = i * k, p = 0;
            for (; p + 3 < k; p += 4) {
                double x0 = a[ai + p], x1 = a[ai + p + 1], x2 = a[ai + p + 2], x3 = a[ai + p + 3];
                double[] b0 = rows[p], b1 = rows[p + 1], b2 = rows[p + 2], b3 = rows[p + 3];
                for (int j = 0; j < c; j++) acc[j] += x0 * b0[j] + x1 * b1[j] + x2 * b2[j] + x3 * b3[j];
            }
            for (; p < k; p++) {
                double x = a[ai + p];
                double[] bp = rows[p];
                for (int j = 0; j < c; j++) acc[j] += x * bp[j];
            }
            System.arraycopy(acc, 0, out, i * c, c);
        }
        return out;
    }

    private static boolean mostlyZero(double[] a, int n) {
        int zeros = 0;
        for (int i = 0; i < n; i++) if (a[i] == 0) zeros++;
        return zeros * 2 > n;
    }

    private static double[] mulSparseLeft(double[] a, double[] b, int r, int k, int c) {
        double[] out = new double[r * c];
        for (int i = 0; i < r; i++) {
            int oi = i * c;
            for (int p = 0; p < k; p++) {
                double av = a[i * k + p];
                if (av == 0) continue;
                int bp = p * c;
                for (int j = 0; j < c; j++) out[oi + j] += av * b[bp + j];
            }
        }
        return out;
    }

    /** Square n x n product. */
    static double[] mul(double[] a, double[] b, int n) { return mul(a, b, n, n, n); }

    /** A B^T for square n x n: as A (B^T), whose row updates vectorise where the dot products of rows do not. */
    static double[] mulT(double[] a, double[] b, int n) { return mul(a, transpose(b, n, n), n); }

    /**
     * R G S^T: a block G_jk seen through the rotations of heads j and k. A mostly-zero S (RoPE-plane rotations)
     * is applied from the left, as (S (R G)^T)^T, so both products skip its zeros; the sums are the same ones
     * (two non-zero terms each), so the result is bit for bit that of the dense product.
     */
    static double[] sandwich(double[] r, double[] g, double[] s, int n) {
        double[] rg = mul(r, g, n);
        return mostlyZero(s, n * n) ? transpose(mul(s, transpose(rg, n, n), n), n, n) : mulT(rg, s, n);
    }

    static double[] transpose(double[] a, int rows, int cols) {
        double[] t = new double[a.length];
        for (int i = 0; i < rows; i++)
            for (int j = 0; j < cols; j++) t[j * rows + i] = a[i * cols + j];
        return t;
    }

    static double[] add(double[] a, double[] b) {
        double[] out = a.clone();
        for (int i = 0; i < out.length; i++) out[i] += b[i];
        return out;
    }

    static void addInto(double[] acc, double[] b, double scale) {
        for (int i = 0; i < acc.length; i++) acc[i] += scale * b[i];
    }

    static double[] scale(double[] a, double s) {
        double[] out = a.clone();
        for (int i = 0; i < out.length; i++) out[i] *= s;
        return out;
    }

    /**
     * A^-1 B for a symmetric positive definite A (n x n, its lower triangle read) and B (n x c), by Cholesky
     * A = L L^T and two triangular solves run a row of B at a time; null when a pivot is not positive (A not
     * positive definite to working precision).
     */
    static double[] choleskySolve(double[] a, double[] b, int n, int c) {
        double[] l = new double[n * n];
        for (int i = 0; i < n; i++)
            for (int j = 0; j <= i; j++) {
                double s = a[i * n + j];
                for (int k = 0; k < j; k++) s -= l[i * n + k] * l[j * n + k];
                if (i == j) {
                    if (!(s > 0)) return null;
                    l[i * n + i] = Math.sqrt(s);
                } else {
                    l[i * n + j] = s / l[j * n + j];
                }
            }
        // Rows of X as arrays of their own: the row updates vectorise (on offsets into one flat array they do
        // not, C2 cannot tell the updated row from the one read); the same operations, so the same bits.
        double[][] x = new double[n][];
        for (int i = 0; i < n; i++) x[i] = java.util.Arrays.copyOfRange(b, i * c, i * c + c);
        // L Y = B, row by row: row i of Y is (B_i - sum_{k<i} L_ik Y_k) / L_ii.
        for (int i = 0; i < n; i++) {
            double[] xi = x[i];
            for (int k = 0; k < i; k++) {
                double f = l[i * n + k];
                double[] xk = x[k];
                for (int j = 0; j < c; j++) xi[j] -= f * xk[j];
            }
            double inv = 1 / l[i * n + i];
            for (int j = 0; j < c; j++) xi[j] *= inv;
        }
        // L^T X = Y, from the last row up.
        for (int i = n - 1; i >= 0; i--) {
            double[] xi = x[i];
            for (int k = i + 1; k < n; k++) {
                double f = l[k * n + i];
                double[] xk = x[k];
                for (int j = 0; j < c; j++) xi[j] -= f * xk[j];
            }
            double inv = 1 / l[i * n + i];
            for (int j = 0; j < c; j++) xi[j] *= inv;
        }
        double[] out = new double[n * c];
        for (int i = 0; i < n; i++) System.arraycopy(x[i], 0, out, i * c, c);
        return out;
    }

    static double trace(double[] a, int n) {
        double t = 0;
        for (int i = 0; i < n; i++) t += a[i * n + i];
        return t;
    }

    /** tr(A B) without forming the product. */
    static double traceOfProduct(double[] a, double[] b, int n) {
        double t = 0;
        for (int i = 0; i < n; i++)
            for (int p = 0; p < n; p++) t += a[i * n + p] * b[p * n + i];
        return t;
    }

    static double frobeniusSq(double[] a) {
        double s = 0;
        for (double v : a) s += v * v;
        return s;
    }

    /** The (i, j) block of size b x b of a square matrix of side n. */
    static double[] block(double[] a, int n, int i, int j, int b) {
        double[] out = new double[b * b];
        for (int r = 0; r < b; r++) System.arraycopy(a, (i * b + r) * n + j * b, out, r * b, b);
        return out;
    }

    static double maxAbsDiff(double[] a, double[] b) {
        double m = 0;
        for (int i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
        return m;
    }
}
