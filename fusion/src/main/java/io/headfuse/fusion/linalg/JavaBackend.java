package io.headfuse.fusion.linalg;

/**
 * Plain Java, no native code: the backend wherever ND4J's native library is absent (the GPU bundle leaves its
 * 323 MB jar out). Products through {@link ParallelMatmul} on every core, SVDs by {@link JacobiSvd}, polar
 * factors by {@link NewtonPolar} (the SVD where it declines).
 */
public final class JavaBackend implements LinalgBackend {
    @Override public String name() { return "java"; }

    @Override public double[] mul(double[] a, double[] b, int r, int k, int c) {
        return ParallelMatmul.mul(a, b, r, k, c);
    }

    /**
     * (W M) W^T; with M symmetric (a moment, a covariance) the second product is symmetric and computed half. A
     * moment summed on an accelerator may be symmetric only to rounding (X^T X's (i, j) and (j, i) summed in
     * different orders); within {@link #SYMMETRY_SLACK} of its largest entry it counts as symmetric, which moves
     * the result by no more than that asymmetry does.
     */
    @Override public double[] congruence(float[] w, int r, int c, double[] m) {
        double[] wd = LinalgBackend.widen(w);
        double[] wm = ParallelMatmul.mul(wd, m, r, c, c);
        double[] wt = ParallelMatmul.transpose(wd, r, c);
        return symmetric(m, c) ? ParallelMatmul.mulSymmetric(wm, wt, r, c) : ParallelMatmul.mul(wm, wt, r, c, r);
    }

    @Override public double[] gram(float[] a, int r, int c) {
        double[] ad = LinalgBackend.widen(a);
        return ParallelMatmul.mulSymmetric(ParallelMatmul.transpose(ad, r, c), ad, c, r);
    }

    @Override public Svd svd(double[] m, int n) { return JacobiSvd.of(m, n); }

    /** Relative asymmetry below which a matrix is taken as symmetric: rounding, not structure. */
    public static final double SYMMETRY_SLACK = 1e-12;

    static boolean symmetric(double[] m, int n) {
        double scale = 0;
        for (double v : m) scale = Math.max(scale, Math.abs(v));
        double slack = SYMMETRY_SLACK * scale;
        for (int i = 0; i < n; i++)
            for (int j = 0; j < i; j++)
                if (Math.abs(m[i * n + j] - m[j * n + i]) > slack) return false;
        return true;
    }
}
