package io.headfuse.converter.linalg;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import io.headfuse.fusion.linalg.JavaBackend;
import io.headfuse.fusion.linalg.LinalgBackend;
import io.headfuse.fusion.linalg.Svd;
import io.headfuse.uptrain.model.TorchRuntime;

/**
 * The hidden-size products (head statistics: W M, W M W^T, A^T A) in float64 on libtorch, on the first GPU when
 * there is one; the head-size SVDs stay in plain Java ({@link JavaBackend}; polar factors by the interface's
 * Newton iteration, with these SVDs as its fallback), where they are
 * small and many. For a machine without ND4J's native library but with a GPU (the GPU bundle): a 7B layer's five
 * 4096-wide products take about 34 s on two cores in Java and milliseconds on the device, plus copying the
 * matrices across. Chosen with {@code HEADFUSE_LINALG=torch} (found through {@link java.util.ServiceLoader}, so the
 * fusion module does not depend on DJL). Results equal the other backends' up to the summation order of float64.
 */
public final class TorchBackend implements LinalgBackend {
    private final JavaBackend small = new JavaBackend();
    private volatile Device device;

    @Override public String name() { return "torch"; }

    @Override public String toString() { return "libtorch float64 on " + device() + " (products), plain Java (SVDs)"; }

    /** The first GPU when libtorch sees one, else the CPU; decided on first use, so loading this class starts nothing. */
    Device device() {
        Device d = device;
        if (d == null) {
            Engine e = TorchRuntime.engine();
            device = d = e.getGpuCount() > 0 ? Device.gpu(0) : Device.cpu();
        }
        return d;
    }

    @Override public synchronized double[] mul(double[] a, double[] b, int r, int k, int c) {
        try (NDManager m = NDManager.newBaseManager(device(), "PyTorch")) {
            return m.create(a, new Shape(r, k)).matMul(m.create(b, new Shape(k, c))).toDoubleArray();
        }
    }

    /** (W M) W^T; with M symmetric, the result is made exactly symmetric, as the Java backend computes half of it. */
    @Override public synchronized double[] congruence(float[] w, int r, int c, double[] mm) {
        try (NDManager m = NDManager.newBaseManager(device(), "PyTorch")) {
            NDArray wd = wide(m, w, r, c);
            NDArray moment = m.create(mm, new Shape(c, c));
            NDArray x = wd.matMul(moment).matMul(wd.transpose());
            double scale = moment.abs().max().getDouble();
            // Taken as symmetric within the slack the Java backend allows, so both backends decide alike.
            boolean symmetric = moment.sub(moment.transpose()).abs().max().getDouble() <= JavaBackend.SYMMETRY_SLACK * scale;
            return (symmetric ? symmetrize(x) : x).toDoubleArray();
        }
    }

    @Override public synchronized double[] gram(float[] a, int r, int c) {
        try (NDManager m = NDManager.newBaseManager(device(), "PyTorch")) {
            NDArray ad = wide(m, a, r, c);
            return symmetrize(ad.transpose().matMul(ad)).toDoubleArray();
        }
    }

    @Override public Svd svd(double[] m, int n) { return small.svd(m, n); }

    /** fp32 weights widened to float64 on the device (exact). */
    private static NDArray wide(NDManager m, float[] w, int r, int c) {
        return m.create(w, new Shape(r, c)).toType(DataType.FLOAT64, false);
    }

    private static NDArray symmetrize(NDArray x) { return x.add(x.transpose()).div(2.0); }
}
