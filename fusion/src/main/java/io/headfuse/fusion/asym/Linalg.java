package io.headfuse.fusion.asym;

import io.headfuse.fusion.linalg.LinalgBackend;
import io.headfuse.fusion.linalg.LinalgBackends;
import io.headfuse.fusion.linalg.Svd;
import java.util.stream.IntStream;

/**
 * The linear algebra of the asym and DHA strategies: the hidden-size products that turn a layer's input moment
 * into per-head statistics, and the SVDs of the d x d steps, on the {@link LinalgBackend} chosen by
 * {@link LinalgBackends#choose()} (ND4J where its native library loads, plain Java otherwise) or installed with
 * {@link #install}. Everything in double precision: the statistics are sums over tens of thousands of tokens and
 * the solves are ill-conditioned when heads are nearly redundant.
 */
public final class Linalg {
    private static volatile LinalgBackend backend;

    private Linalg() {}

    /** The backend in use, chosen on first use. */
    public static LinalgBackend backend() {
        LinalgBackend b = backend;
        if (b == null) {
            synchronized (Linalg.class) {
                if (backend == null) backend = LinalgBackends.choose();
                b = backend;
            }
        }
        return b;
    }

    /** Replaces the backend (tests comparing backends, a caller with a faster one); returns the previous, possibly null. */
    public static synchronized LinalgBackend install(LinalgBackend b) {
        LinalgBackend previous = backend;
        backend = b;
        return previous;
    }

    /** W M W^T for W (r x c, fp32 weights) and a symmetric M (c x c): the second moment of W x when M = E[x x^T]. */
    public static double[] congruence(float[] w, int r, int c, double[] m) { return backend().congruence(w, r, c, m); }

    /**
     * The d x d diagonal blocks of W M W^T (one per head of d rows of W): what a caller needs that only asks about
     * each head with itself. Costs the product W M alone, not the second hidden-size product.
     */
    public static double[][] congruenceDiagonal(float[] w, int r, int c, double[] m, int d) {
        double[] wm = backend().mul(LinalgBackend.widen(w), m, r, c, c);
        double[][] out = new double[r / d][];
        IntStream.range(0, r / d).parallel().forEach(h -> {
            double[] block = new double[d * d];
            for (int i = 0; i < d; i++) {
                int a = (h * d + i) * c;
                for (int j = 0; j < d; j++) {
                    int b = (h * d + j) * c;
                    double s = 0;
                    for (int p = 0; p < c; p++) s += wm[a + p] * w[b + p];
                    block[i * d + j] = s;
                }
            }
            out[h] = block;
        });
        return out;
    }

    /** A^T A for A (r x c, fp32 weights). */
    public static double[] gram(float[] a, int r, int c) { return backend().gram(a, r, c); }

    /** The d x d diagonal blocks of A^T A (column blocks of d of A): c d^2 r work instead of c^2 r. */
    public static double[][] gramDiagonal(float[] a, int r, int c, int d) {
        double[][] out = new double[c / d][];
        IntStream.range(0, c / d).parallel().forEach(h -> {
            double[] block = new double[d * d];
            for (int p = 0; p < r; p++) {
                int row = p * c + h * d;
                for (int i = 0; i < d; i++) {
                    double x = a[row + i];
                    for (int j = 0; j < d; j++) block[i * d + j] += x * (double) a[row + j];
                }
            }
            out[h] = block;
        });
        return out;
    }

    /** A (r x k) times B (k x c), both row-major doubles. */
    public static double[] mul(double[] a, double[] b, int r, int k, int c) { return backend().mul(a, b, r, k, c); }

    public static Svd svd(double[] m, int n) { return backend().svd(m, n); }

    /**
     * The orthogonal matrix nearest to M, U V^T for M = U S V^T: the Procrustes rotation Q maximising
     * tr(Q M^T). It may be a reflection (det -1); for folding into weights any orthogonal matrix will do.
     * The backend's: from the SVD (ND4J) or by Newton's iteration (plain Java), equal up to round-off.
     */
    public static double[] polar(double[] m, int n) { return backend().polar(m, n); }

    /**
     * A^-1 B for a symmetric positive semi-definite A (n x n) and B (n x c), regularised: singular values below
     * {@code relRidge} times the mean singular value are raised to it, so directions no head uses stay put instead
     * of blowing up. Through the SVD (for symmetric PSD A, U = V): with ND4J, LAPACK's gesvd is an order of
     * magnitude faster than its potrf or syev at head size.
     */
    public static double[] solveSpd(double[] a, double[] b, int n, int c, double relRidge) {
        double[] sym = a.clone();
        for (int i = 0; i < n; i++)
            for (int j = 0; j < i; j++) sym[i * n + j] = sym[j * n + i] = 0.5 * (a[i * n + j] + a[j * n + i]);
        Svd svd = svd(sym, n);
        double mean = 0;
        for (double v : svd.s()) mean += v;
        mean /= n;
        double floor = Math.max(relRidge * mean, Double.MIN_NORMAL);
        // A^-1 B = V S^-1 U^T B, with V = (vt)^T.
        double[] utb = Dense.mul(Dense.transpose(svd.u(), n, n), b, n, n, c);
        for (int i = 0; i < n; i++) {
            double inv = 1.0 / Math.max(svd.s()[i], floor);
            for (int j = 0; j < c; j++) utb[i * c + j] *= inv;
        }
        return Dense.mul(Dense.transpose(svd.vt(), n, n), utb, n, n, c);
    }
}
