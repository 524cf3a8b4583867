package io.headfuse.fusion.linalg;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * ND4J's native BLAS and LAPACK (OpenBLAS through bytedeco). The only class of headfuse that names ND4J: it is
 * loaded by name from {@link LinalgBackends}, so a class path without the nd4j/bytedeco jars never touches ND4J.
 */
public final class Nd4jBackend implements LinalgBackend {
    /** Loads the native library now (a tiny product), so a missing or broken one fails the choice, not a later call. */
    public Nd4jBackend() {
        double[] probe = mul(new double[] {1, 2, 3, 4}, new double[] {1, 0, 0, 1}, 2, 2, 2);
        if (probe[3] != 4) throw new IllegalStateException("ND4J's native backend computed a wrong product");
    }

    @Override public String name() { return "nd4j"; }

    static INDArray matrix(double[] a, int rows, int cols) {
        return Nd4j.create(a, new long[] {rows, cols}, DataType.DOUBLE);
    }

    static INDArray matrix(float[] a, int rows, int cols) {
        return Nd4j.create(a, new long[] {rows, cols}).castTo(DataType.DOUBLE);
    }

    static double[] rowMajor(INDArray a) { return a.dup('c').data().asDouble(); }

    @Override public double[] congruence(float[] w, int r, int c, double[] m) {
        INDArray wm = matrix(w, r, c);
        return rowMajor(wm.mmul(matrix(m, c, c)).mmul(wm.transpose()));
    }

    @Override public double[] gram(float[] a, int r, int c) {
        INDArray x = matrix(a, r, c);
        return rowMajor(x.transpose().mmul(x));
    }

    @Override public double[] mul(double[] a, double[] b, int r, int k, int c) {
        return rowMajor(matrix(a, r, k).mmul(matrix(b, k, c)));
    }

    @Override public Svd svd(double[] m, int n) {
        INDArray a = matrix(m, n, n).dup('c');
        INDArray s = Nd4j.create(DataType.DOUBLE, n);
        INDArray u = Nd4j.create(DataType.DOUBLE, n, n);
        INDArray vt = Nd4j.create(DataType.DOUBLE, n, n);
        Nd4j.getBlasWrapper().lapack().gesvd(a, s, u, vt);
        return new Svd(rowMajor(u), s.data().asDouble(), rowMajor(vt));
    }
}
