package io.headfuse.fusion.linalg;

import java.util.stream.IntStream;

/**
 * Dense fp64 products in plain Java, cache-blocked and spread over the common fork-join pool by blocks of output
 * rows. The inner loop is a row update c_i += sum_p a_ip b_p over four rows p of B at once, which C2 turns into
 * vector code (about 10 GFLOP/s a core on AVX2/AVX-512; loads of C per update are what limits it, hence two rows
 * of C and four of B per pass). B is walked in KC x NC blocks (256 x 512 doubles, 1 MiB) so a block stays in the
 * core's L2 while every row of the task passes over it.
 */
final class ParallelMatmul {
    private static final int KC = 256;
    private static final int NC = 512;
    /** Output rows per task: enough work per task (32 x k x c) to hide scheduling, enough tasks to balance 16 cores. */
    private static final int ROWS_PER_TASK = 32;

    private ParallelMatmul() {}

    /** A (r x k) times B (k x c), row-major. */
    static double[] mul(double[] a, double[] b, int r, int k, int c) {
        double[][] out = new double[r][c];
        IntStream.range(0, tasks(r)).parallel().forEach(t -> {
            int i0 = t * ROWS_PER_TASK, i1 = Math.min(r, i0 + ROWS_PER_TASK);
            rows(a, b, out, k, c, i0, i1, 0);
        });
        return flatten(out, c);
    }

    /**
     * A (n x k) times B (k x n) for a product known to be symmetric (W M W^T with M symmetric, A^T A): only the
     * blocks on and above the diagonal are computed, then mirrored, which halves the work.
     */
    static double[] mulSymmetric(double[] a, double[] b, int n, int k) {
        double[][] out = new double[n][n];
        IntStream.range(0, tasks(n)).parallel().forEach(t -> {
            int i0 = t * ROWS_PER_TASK, i1 = Math.min(n, i0 + ROWS_PER_TASK);
            rows(a, b, out, k, n, i0, i1, i0);
        });
        for (int i = 0; i < n; i++)
            for (int j = 0; j < i; j++) out[i][j] = out[j][i];
        return flatten(out, n);
    }

    private static int tasks(int rows) { return (rows + ROWS_PER_TASK - 1) / ROWS_PER_TASK; }

    /** Rows i0..i1 of A B into out, columns j0..c only. */
    private static void rows(double[] a, double[] b, double[][] out, int k, int c, int i0, int i1, int j0) {
        for (int jb = j0; jb < c; jb += NC) {
            int jEnd = Math.min(c, jb + NC);
            for (int pb = 0; pb < k; pb += KC) {
                int pEnd = Math.min(k, pb + KC);
                int i = i0;
                for (; i + 1 < i1; i += 2) twoRows(a, b, out[i], out[i + 1], i * k, (i + 1) * k, c, pb, pEnd, jb, jEnd);
                if (i < i1) oneRow(a, b, out[i], i * k, c, pb, pEnd, jb, jEnd);
            }
        }
    }

    private static void twoRows(double[] a, double[] b, double[] c0, double[] c1, int a0, int a1, int c,
                                int pb, int pEnd, int jb, int jEnd) {
        int p = pb;
        for (; p + 3 < pEnd; p += 4) {
            double x0 = a[a0 + p], x1 = a[a0 + p + 1], x2 = a[a0 + p + 2], x3 = a[a0 + p + 3];
            double y0 = a[a1 + p], y1 = a[a1 + p + 1], y2 = a[a1 + p + 2], y3 = a[a1 + p + 3];
            int b0 = p * c, b1 = b0 + c, b2 = b1 + c, b3 = b2 + c;
            for (int j = jb; j < jEnd; j++) {
                double v0 = b[b0 + j], v1 = b[b1 + j], v2 = b[b2 + j], v3 = b[b3 + j];
                c0[j] += x0 * v0 + x1 * v1 + x2 * v2 + x3 * v3;
                c1[j] += y0 * v0 + y1 * v1 + y2 * v2 + y3 * v3;
            }
        }
        for (; p < pEnd; p++) {
            double x = a[a0 + p], y = a[a1 + p];
            int bp = p * c;
            for (int j = jb; j < jEnd; j++) {
                double v = b[bp + j];
                c0[j] += x * v;
                c1[j] += y * v;
            }
        }
    }

    private static void oneRow(double[] a, double[] b, double[] c0, int a0, int c, int pb, int pEnd, int jb, int jEnd) {
        for (int p = pb; p < pEnd; p++) {
            double x = a[a0 + p];
            int bp = p * c;
            for (int j = jb; j < jEnd; j++) c0[j] += x * b[bp + j];
        }
    }

    private static double[] flatten(double[][] rows, int c) {
        double[] out = new double[rows.length * c];
        IntStream.range(0, rows.length).parallel().forEach(i -> System.arraycopy(rows[i], 0, out, i * c, c));
        return out;
    }

    static double[] transpose(double[] a, int rows, int cols) {
        double[] t = new double[a.length];
        // Tiles of 32 x 32 so neither side is walked with a stride of a whole row per element.
        for (int i0 = 0; i0 < rows; i0 += 32)
            for (int j0 = 0; j0 < cols; j0 += 32)
                for (int i = i0; i < Math.min(rows, i0 + 32); i++)
                    for (int j = j0; j < Math.min(cols, j0 + 32); j++) t[j * rows + i] = a[i * cols + j];
        return t;
    }
}
