package io.headfuse.fusion.asym;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The linear algebra that is worth a native library: the hidden-size products that turn a layer's input moment
 * into per-head statistics, and the SVDs and symmetric eigensolves of the d x d steps. Everything in double
 * precision: the statistics are sums over tens of thousands of tokens and the solves are ill-conditioned when
 * heads are nearly redundant.
 */
public final class Linalg {
    private Linalg() {}

    /** An SVD M = U diag(S) V^T of a square matrix; all row-major. */
    public record Svd(double[] u, double[] s, double[] vt) {}

    static INDArray matrix(double[] a, int rows, int cols) {
        return Nd4j.create(a, new long[] {rows, cols}, DataType.DOUBLE);
    }

    static INDArray matrix(float[] a, int rows, int cols) {
        return Nd4j.create(a, new long[] {rows, cols}).castTo(DataType.DOUBLE);
    }

    static double[] rowMajor(INDArray a) { return a.dup('c').data().asDouble(); }

    /** W M W^T for W (r x c, fp32 weights) and a symmetric M (c x c): the second moment of W x when M = E[x x^T]. */
    public static double[] congruence(float[] w, int r, int c, double[] m) {
        INDArray wm = matrix(w, r, c);
        return rowMajor(wm.mmul(matrix(m, c, c)).mmul(wm.transpose()));
    }

    /** A^T A for A (r x c, fp32 weights). */
    public static double[] gram(float[] a, int r, int c) {
        INDArray x = matrix(a, r, c);
        return rowMajor(x.transpose().mmul(x));
    }

    /** A (r x k) times B (k x c), both row-major doubles, through BLAS. */
    public static double[] mul(double[] a, double[] b, int r, int k, int c) {
        return rowMajor(matrix(a, r, k).mmul(matrix(b, k, c)));
    }

    public static Svd svd(double[] m, int n) {
        INDArray a = matrix(m, n, n).dup('c');
        INDArray s = Nd4j.create(DataType.DOUBLE, n);
        INDArray u = Nd4j.create(DataType.DOUBLE, n, n);
        INDArray vt = Nd4j.create(DataType.DOUBLE, n, n);
        Nd4j.getBlasWrapper().lapack().gesvd(a, s, u, vt);
        return new Svd(rowMajor(u), s.data().asDouble(), rowMajor(vt));
    }

    /**
     * The orthogonal matrix nearest to M, U V^T for M = U S V^T: the Procrustes rotation Q maximising
     * tr(Q M^T). It may be a reflection (det -1); for folding into weights any orthogonal matrix will do.
     */
    public static double[] polar(double[] m, int n) {
        Svd svd = svd(m, n);
        return Dense.mul(svd.u(), svd.vt(), n);
    }

    /**
     * A^-1 B for a symmetric positive semi-definite A (n x n) and B (n x c), regularised: singular values below
     * {@code relRidge} times the mean singular value are raised to it, so directions no head uses stay put instead
     * of blowing up. Through the SVD (for symmetric PSD A, U = V): on this backend LAPACK's gesvd is an order of
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
