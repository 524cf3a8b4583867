package io.headfuse.fusion.linalg;

/**
 * The dense products and factorisations that are worth a tuned implementation: the hidden-size products that turn
 * a layer's input moment into per-head statistics, and the head-size SVDs. Everything in double precision (sums
 * over tens of thousands of tokens; ill-conditioned solves when heads are nearly redundant). All matrices are
 * row-major. Implementations must be safe to call from several threads at once.
 */
public interface LinalgBackend {
    /** A short name for the log line and reports ("nd4j", "java"). */
    String name();

    /** A (r x k) times B (k x c). */
    double[] mul(double[] a, double[] b, int r, int k, int c);

    /** W M W^T for W (r x c, fp32 weights) and M (c x c). */
    double[] congruence(float[] w, int r, int c, double[] m);

    /** A^T A for A (r x c, fp32 weights). */
    double[] gram(float[] a, int r, int c);

    /** The SVD of a square n x n matrix, singular values descending. */
    Svd svd(double[] m, int n);

    /**
     * The orthogonal polar factor U V^T of a square M = U S V^T: the rotation (or reflection) Q maximising
     * tr(Q M^T), what Procrustes alignment asks for. By {@link NewtonPolar}, which agrees with U V^T up to
     * round-off, and from {@link #svd} where it declines (ill-conditioned M). Every backend shares it: through
     * ND4J, LAPACK's SVD per head-size matrix made the asym search on a 7B-shaped layer 3.3x slower than this
     * (224 s against 68 s on 2 cores, the same output bytes; README, Scale).
     */
    default double[] polar(double[] m, int n) {
        double[] q = NewtonPolar.of(m, n);
        return q != null ? q : svd(m, n).polar();
    }

    /** fp32 weights as float64 (exact), as every backend and caller of the products reads them. */
    static double[] widen(float[] a) {
        double[] d = new double[a.length];
        for (int i = 0; i < a.length; i++) d[i] = a[i];
        return d;
    }
}
