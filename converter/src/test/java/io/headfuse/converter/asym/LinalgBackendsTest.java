package io.headfuse.converter.asym;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.headfuse.converter.report.AsymBench;
import io.headfuse.formats.Checkpoint;
import io.headfuse.formats.Checkpoints;
import io.headfuse.formats.LlamaNames;
import io.headfuse.formats.calib.CalibrationStats;
import io.headfuse.fusion.asym.AsymStrategy;
import io.headfuse.fusion.asym.HeadStats;
import io.headfuse.fusion.asym.LayerWeights;
import io.headfuse.fusion.asym.Linalg;
import io.headfuse.fusion.linalg.JavaBackend;
import io.headfuse.fusion.linalg.LinalgBackend;
import io.headfuse.fusion.linalg.LinalgBackends;
import io.headfuse.fusion.linalg.Svd;
import io.headfuse.testkit.Assets;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The plain-Java backend against ND4J's on real matrices: headfuse-mha-m's layer-3 weights (hidden 512, 8 heads of
 * 64) with its input moments calibrated on 4,096 SOTU tokens, and the head-size matrices the asym steps factor
 * (cross-statistic blocks, summed metrics, a two-head 128 x 128 block). Products agree to 1e-9 of their largest
 * entry, singular values to 1e-11 of the largest, singular vectors up to sign where the spectrum is separated.
 */
class LinalgBackendsTest {
    private static final int LAYER = 3;
    static LinalgBackend nd4j;
    static final LinalgBackend JAVA = new JavaBackend();
    static LayerWeights w;
    static double[] moment, covariance;
    static HeadStats[] stats;
    /** Every layer's V statistics (the calibration of all layers, kept for the polar-factor check). */
    static final List<HeadStats> V_LAYERS = new ArrayList<>();
    /** The largest relative difference seen per kind of check, printed at the end (the numbers the report quotes). */
    static final java.util.Map<String, Double> WORST = new java.util.concurrent.ConcurrentSkipListMap<>();

    @AfterAll static void printWorst() {
        WORST.forEach((what, rel) -> System.out.printf("java vs nd4j: %-24s max |diff| / max |nd4j| = %.2e%n", what, rel));
    }

    @BeforeAll static void calibrate() throws Exception {
        nd4j = LinalgBackends.nd4j();
        AsymBench b = new AsymBench(Assets.model("headfuse-mha-m"));
        try {
            CalibrationStats s = b.calibrate(Assets.text("sotu/sotu-1790-2021.txt"), 4096);
            moment = s.secondMoment(LAYER);
            covariance = s.covariance(LAYER);
            try (Checkpoint in = Checkpoints.open(Assets.model("headfuse-mha-m"))) {
                w = AsymStrategy.weights(in, LAYER);
                for (int l = 0; l < s.layers(); l++)
                    V_LAYERS.add(HeadStats.of(AsymStrategy.weights(in, l), s.secondMoment(l), s.covariance(l))[1]);
            }
        } finally {
            b.close();
        }
        stats = HeadStats.of(w, moment, covariance);
    }

    @Test void congruenceOfEveryProjectionWithBothMoments() {
        int rows = w.heads() * w.headDim(), hidden = w.hidden();
        for (float[] p : List.of(w.q(), w.k(), w.v()))
            for (double[] m : List.of(moment, covariance)) {
                double[] ref = nd4j.congruence(p, rows, hidden, m);
                assertClose(ref, JAVA.congruence(p, rows, hidden, m), 1e-9, "W M W^T");
                // The blocks HeadStats takes alone (the query metric) match the full product's diagonal blocks.
                double[][] diag = Linalg.congruenceDiagonal(p, rows, hidden, m, w.headDim());
                for (int h = 0; h < w.heads(); h++) assertClose(block(ref, rows, h, h, w.headDim()), diag[h], 1e-9, "diagonal block " + h);
            }
    }

    @Test void gramOfOutputProjectionAndItsDiagonalBlocks() {
        int rows = w.heads() * w.headDim(), hidden = w.hidden();
        double[] ref = nd4j.gram(w.o(), hidden, rows);
        assertClose(ref, JAVA.gram(w.o(), hidden, rows), 1e-9, "O^T O");
        double[][] diag = Linalg.gramDiagonal(w.o(), hidden, rows, w.headDim());
        for (int h = 0; h < w.heads(); h++) assertClose(block(ref, rows, h, h, w.headDim()), diag[h], 1e-9, "O^T O block " + h);
        // The MLP's up projection: a tall, non-square gram (intermediate x hidden).
        try (Checkpoint in = Checkpoints.open(Assets.model("headfuse-mha-m"))) {
            float[] up = in.tensor(LlamaNames.up(LAYER)).toFloats();
            int inter = up.length / hidden;
            assertClose(nd4j.gram(up, inter, hidden), JAVA.gram(up, inter, hidden), 1e-9, "Up^T Up");
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    @Test void rectangularProducts() {
        int hidden = w.hidden(), r = 3 * w.headDim(), c = 5 * w.headDim();
        double[] a = new double[r * hidden], bt = new double[c * hidden];
        for (int i = 0; i < a.length; i++) a[i] = w.k()[i];
        for (int i = 0; i < bt.length; i++) bt[i] = w.v()[i];
        double[] am = nd4j.mul(a, moment, r, hidden, hidden);
        assertClose(am, JAVA.mul(a, moment, r, hidden, hidden), 1e-9, "W_k M");
        double[] b = transpose(bt, c, hidden);
        assertClose(nd4j.mul(am, b, r, hidden, c), JAVA.mul(am, b, r, hidden, c), 1e-9, "W_k M W_v^T");
        assertClose(nd4j.mul(moment, covariance, hidden, hidden, hidden), JAVA.mul(moment, covariance, hidden, hidden, hidden), 1e-9, "M Cov");
    }

    /** The d x d (and 2d x 2d) matrices the asym steps factor, on both kinds of head. */
    static List<double[]> headMatrices() {
        List<double[]> out = new ArrayList<>();
        int d = w.headDim();
        for (HeadStats s : stats) {
            out.add(s.moment()[0][5]);             // a cross-statistic block: what alignment takes the polar factor of
            out.add(s.centred()[2][2]);            // a centred auto-moment: symmetric PSD
            double[] sum = s.metric()[1].clone();  // a summed metric: what least-squares pooling solves with
            for (int i = 0; i < sum.length; i++) sum[i] += s.metric()[4][i] + s.metric()[6][i];
            out.add(sum);
        }
        // A 2-head block (128 x 128) of W_v Cov W_v^T off the diagonal: the size of a 7B head.
        int rows = w.heads() * d;
        double[] vv = nd4j.congruence(w.v(), rows, w.hidden(), covariance);
        double[] big = new double[4 * d * d];
        for (int i = 0; i < 2 * d; i++) System.arraycopy(vv, i * rows + 2 * d, big, i * 2 * d, 2 * d);
        out.add(big);
        return out;
    }

    @Test void svdMatchesLapack() {
        for (double[] m : headMatrices()) {
            int n = (int) Math.round(Math.sqrt(m.length));
            Svd ref = nd4j.svd(m, n), got = JAVA.svd(m, n);
            double top = ref.s()[0];
            assertTrue(top > 0);
            for (int i = 0; i < n; i++) {
                assertEquals(ref.s()[i], got.s()[i], 1e-11 * top, "singular value " + i + " of " + n);
                WORST.merge("singular values", Math.abs(ref.s()[i] - got.s()[i]) / top, Math::max);
            }
            assertClose(m, reconstruct(got, n), 1e-12, "U S V^T");
            assertClose(identity(n), mulT(got.u(), got.u(), n, true), 1e-12, "U^T U");
            assertClose(identity(n), mulT(got.vt(), got.vt(), n, false), 1e-12, "V^T V");
            // Singular vectors up to sign, where the values are apart enough for the vectors to be defined (the
            // angle between two computations is about eps * top / gap).
            int compared = 0;
            for (int i = 0; i < n; i++) {
                double gap = Math.min(i > 0 ? ref.s()[i - 1] - ref.s()[i] : Double.MAX_VALUE, i < n - 1 ? ref.s()[i] - ref.s()[i + 1] : Double.MAX_VALUE);
                if (gap < 1e-5 * top) continue;
                compared++;
                double tol = 1e-13 * top / gap + 1e-12;
                assertEquals(1, Math.abs(dot(column(ref.u(), n, i), column(got.u(), n, i))), tol, "left singular vector " + i);
                assertEquals(1, Math.abs(dot(row(ref.vt(), n, i), row(got.vt(), n, i))), tol, "right singular vector " + i);
            }
            assertTrue(compared >= n / 2, "only " + compared + " of " + n + " singular vectors separated");
        }
    }

    @Test void polarAndRegularisedSolveMatchLapack() {
        for (double[] m : headMatrices()) {
            int n = (int) Math.round(Math.sqrt(m.length));
            // Every backend takes polar factors by Newton's iteration now: against LAPACK's U V^T, and through ND4J.
            assertClose(nd4j.svd(m, n).polar(), with(JAVA, () -> Linalg.polar(m, n)), 1e-9, "polar vs LAPACK's U V^T");
            assertClose(with(nd4j, () -> Linalg.polar(m, n)), with(JAVA, () -> Linalg.polar(m, n)), 0, "polar, nd4j and java");
            double[] spd = m.clone();
            for (int i = 0; i < n; i++)
                for (int j = 0; j < n; j++) spd[i * n + j] = 0.5 * (m[i * n + j] + m[j * n + i]);
            double[] gram = mulT(spd, spd, n, false);
            double[] rhs = new double[n * 2 * n];
            for (int i = 0; i < n; i++) System.arraycopy(m, i * n, rhs, i * 2 * n, n);
            for (int i = 0; i < n; i++) System.arraycopy(stats[1].metric()[0], (i % w.headDim()) * w.headDim(), rhs, i * 2 * n + n, Math.min(n, w.headDim()));
            assertClose(with(nd4j, () -> Linalg.solveSpd(gram, rhs, n, 2 * n, 1e-4)), with(JAVA, () -> Linalg.solveSpd(gram, rhs, n, 2 * n, 1e-4)), 1e-9, "solveSpd");
        }
    }

    /**
     * The plain-Java backend's polar factors (Newton's iteration) against U V^T from Jacobi's SVD and from LAPACK's,
     * on what V's alignment factors in every layer of headfuse-mha-m: each ordered pair's cross-statistic (the first
     * alignment) and the cross-statistics of the alignment rounds of three groups of four, recorded as alignment
     * asks for them. Entries of an orthogonal matrix are at most 1: the bound is absolute.
     */
    @Test void newtonPolarFactorsMatchTheSvdsOnRealCrossStatistics() {
        List<double[]> asked = new ArrayList<>();
        LinalgBackend recording = new LinalgBackend() {
            @Override public String name() { return "recording java"; }
            @Override public double[] mul(double[] a, double[] b, int r, int k, int c) { return JAVA.mul(a, b, r, k, c); }
            @Override public double[] congruence(float[] f, int r, int c, double[] m) { return JAVA.congruence(f, r, c, m); }
            @Override public double[] gram(float[] a, int r, int c) { return JAVA.gram(a, r, c); }
            @Override public Svd svd(double[] m, int n) { return JAVA.svd(m, n); }
            @Override public double[] polar(double[] m, int n) {
                asked.add(m.clone());
                return JAVA.polar(m, n);
            }
        };
        int d = w.headDim();
        for (HeadStats v : V_LAYERS) {
            for (int i = 0; i < v.heads(); i++)
                for (int j = 0; j < v.heads(); j++)
                    if (i != j) asked.add(v.moment()[i][j]);
            for (int[] group : new int[][] {{0, 1, 2, 3}, {4, 5, 6, 7}, {0, 2, 5, 7}})
                with(recording, () -> io.headfuse.fusion.asym.Alignment.rotations(v, group, io.headfuse.fusion.asym.Alignment.DEFAULT_ROUNDS));
        }
        assertTrue(asked.size() > V_LAYERS.size() * 56, asked.size() + " matrices");
        double[] worst = new double[2];
        double worstCondition = 0;
        for (double[] m : asked) {
            double[] newton = JAVA.polar(m, d);
            for (int b = 0; b < 2; b++) {
                LinalgBackend backend = b == 0 ? JAVA : nd4j;
                Svd svd = backend.svd(m, d);
                double[] ref = svd.polar();
                double diff = 0;
                for (int i = 0; i < ref.length; i++) diff = Math.max(diff, Math.abs(ref[i] - newton[i]));
                worst[b] = Math.max(worst[b], diff);
                worstCondition = Math.max(worstCondition, svd.s()[0] / svd.s()[d - 1]);
                assertTrue(diff <= 1e-10, "max |newton - " + backend.name() + " U V^T| = " + diff);
            }
        }
        System.out.printf("newton polar on %d cross-statistics of %d layers (condition up to %.3g): max |diff| %.2e to Jacobi's U V^T, %.2e to LAPACK's%n",
                asked.size(), V_LAYERS.size(), worstCondition, worst[0], worst[1]);
    }

    @Test void headStatisticsAreTheSameOnEitherBackend() {
        HeadStats[] ref = with(nd4j, () -> HeadStats.of(w, moment, covariance));
        HeadStats[] got = with(JAVA, () -> HeadStats.of(w, moment, covariance));
        // HeadStats centres through the mean (W M W^T - (W mu)(W mu)^T); against the direct W Cov W^T on ND4J.
        int rows = w.heads() * w.headDim();
        double[][] direct = {nd4j.congruence(w.k(), rows, w.hidden(), covariance), nd4j.congruence(w.v(), rows, w.hidden(), covariance)};
        for (int k = 0; k < 2; k++) {
            double[] full = new double[rows * rows];
            for (int i = 0; i < w.heads(); i++)
                for (int j = 0; j < w.heads(); j++)
                    for (int r = 0; r < w.headDim(); r++)
                        System.arraycopy(got[k].centred()[i][j], r * w.headDim(), full, (i * w.headDim() + r) * rows + j * w.headDim(), w.headDim());
            assertClose(direct[k], full, 1e-9, "centred via the mean");
        }
        for (int k = 0; k < 2; k++)
            for (int i = 0; i < w.heads(); i++) {
                assertClose(ref[k].metric()[i], got[k].metric()[i], 1e-9, "metric");
                for (int j = 0; j < w.heads(); j++) {
                    assertClose(ref[k].moment()[i][j], got[k].moment()[i][j], 1e-9, "moment block");
                    assertClose(ref[k].centred()[i][j], got[k].centred()[i][j], 1e-9, "centred block");
                }
            }
    }

    static <T> T with(LinalgBackend b, Supplier<T> f) {
        LinalgBackend previous = Linalg.install(b);
        try {
            return f.get();
        } finally {
            Linalg.install(previous);
        }
    }

    /** max |a - b| within {@code rel} of max |a|. */
    static void assertClose(double[] expect, double[] actual, double rel, String what) {
        assertEquals(expect.length, actual.length, what);
        double scale = 0, diff = 0;
        for (int i = 0; i < expect.length; i++) {
            scale = Math.max(scale, Math.abs(expect[i]));
            diff = Math.max(diff, Math.abs(expect[i] - actual[i]));
        }
        assertTrue(scale > 0, what + ": all zero");
        WORST.merge(what.replaceAll(" [0-9]+$", ""), diff / scale, Math::max);
        assertTrue(diff <= rel * scale, what + ": max |diff| " + diff + " > " + rel + " x " + scale);
    }

    static double[] block(double[] a, int n, int i, int j, int d) {
        double[] out = new double[d * d];
        for (int r = 0; r < d; r++) System.arraycopy(a, (i * d + r) * n + j * d, out, r * d, d);
        return out;
    }

    static double[] transpose(double[] a, int rows, int cols) {
        double[] t = new double[a.length];
        for (int i = 0; i < rows; i++)
            for (int j = 0; j < cols; j++) t[j * rows + i] = a[i * cols + j];
        return t;
    }

    static double[] reconstruct(Svd s, int n) {
        double[] out = new double[n * n];
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++) {
                double v = 0;
                for (int k = 0; k < n; k++) v += s.u()[i * n + k] * s.s()[k] * s.vt()[k * n + j];
                out[i * n + j] = v;
            }
        return out;
    }

    /** A^T A when {@code left}, else A A^T. */
    static double[] mulT(double[] a, double[] b, int n, boolean left) {
        double[] out = new double[n * n];
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++) {
                double v = 0;
                for (int k = 0; k < n; k++) v += left ? a[k * n + i] * b[k * n + j] : a[i * n + k] * b[j * n + k];
                out[i * n + j] = v;
            }
        return out;
    }

    static double[] identity(int n) {
        double[] a = new double[n * n];
        for (int i = 0; i < n; i++) a[i * n + i] = 1;
        return a;
    }

    static double[] column(double[] a, int n, int j) {
        double[] c = new double[n];
        for (int i = 0; i < n; i++) c[i] = a[i * n + j];
        return c;
    }

    static double[] row(double[] a, int n, int i) { return java.util.Arrays.copyOfRange(a, i * n, i * n + n); }

    static double dot(double[] x, double[] y) {
        double s = 0;
        for (int i = 0; i < x.length; i++) s += x[i] * y[i];
        return s;
    }
}
