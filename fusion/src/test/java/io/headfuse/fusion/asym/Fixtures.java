package io.headfuse.fusion.asym;

import java.util.Random;

/** Random layers and input moments, plus a plain reference attention to check that folds preserve the function. */
final class Fixtures {
    private Fixtures() {}

    static LayerWeights randomLayer(Random r, int hidden, int heads, int d) {
        int rows = heads * d;
        return new LayerWeights(gauss(r, rows * hidden), gauss(r, rows * hidden), gauss(r, rows * hidden), gauss(r, hidden * rows), hidden, heads, d);
    }

    /**
     * A layer whose heads come in families: head h is a mix of a shared base per family plus noise, so that
     * some groupings are clearly better than others.
     */
    static LayerWeights familyLayer(Random r, int hidden, int heads, int d, int families, double noise) {
        int rows = heads * d;
        float[] q = new float[rows * hidden], k = new float[rows * hidden], v = new float[rows * hidden], o = new float[hidden * rows];
        float[][] bases = new float[families * 4][];
        for (int i = 0; i < bases.length; i++) bases[i] = gauss(r, d * hidden);
        int[] fam = new int[heads];
        for (int h = 0; h < heads; h++) fam[h] = r.nextInt(families);
        for (int h = 0; h < heads; h++)
            for (int i = 0; i < d * hidden; i++) {
                q[h * d * hidden + i] = (float) (bases[fam[h] * 4][i] + noise * r.nextGaussian());
                k[h * d * hidden + i] = (float) (bases[fam[h] * 4 + 1][i] + noise * r.nextGaussian());
                v[h * d * hidden + i] = (float) (bases[fam[h] * 4 + 2][i] + noise * r.nextGaussian());
                int row = i / d, col = i % d; // o column block h: hidden x d
                o[row * rows + h * d + col] = (float) (bases[fam[h] * 4 + 3][i] + noise * r.nextGaussian());
            }
        return new LayerWeights(q, k, v, o, hidden, heads, d);
    }

    static float[] gauss(Random r, int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) (r.nextGaussian() / Math.sqrt(n));
        return a;
    }

    /** An SPD hidden x hidden matrix with a spread of eigenvalues, like a real input second moment. */
    static double[] spd(Random r, int n) {
        double[] x = new double[n * n];
        for (int i = 0; i < x.length; i++) x[i] = r.nextGaussian();
        double[] s = Dense.mulT(x, x, n);
        for (int i = 0; i < n; i++) s[i * n + i] += 0.1 * n;
        return Dense.scale(s, 1.0 / n);
    }

    static double[] toDouble(float[] a) {
        double[] d = new double[a.length];
        for (int i = 0; i < a.length; i++) d[i] = a[i];
        return d;
    }

    /** Applies HF's rotate-half RoPE at position pos to a head vector of even length d, in place on a copy. */
    static double[] rope(double[] x, int pos, double theta) {
        int d = x.length, h = d / 2;
        double[] out = new double[d];
        for (int p = 0; p < h; p++) {
            double ang = pos * Math.pow(theta, -2.0 * p / d);
            double c = Math.cos(ang), s = Math.sin(ang);
            out[p] = x[p] * c - x[p + h] * s;
            out[p + h] = x[p] * s + x[p + h] * c;
        }
        return out;
    }

    /**
     * Causal multi-head attention with RoPE for T tokens (x: T x hidden), query head h reading K head kMap[h]
     * and V head vMap[h]; returns T x hidden after o_proj. The reference every fold is checked against.
     */
    static double[] attention(double[] x, int t, float[] q, float[] k, float[] v, float[] o, int[] kMap, int[] vMap, int hidden, int d) {
        int heads = kMap.length;
        double[] out = new double[t * hidden];
        for (int h = 0; h < heads; h++) {
            double[][] qs = new double[t][], ks = new double[t][], vs = new double[t][];
            for (int s = 0; s < t; s++) {
                qs[s] = rope(project(q, h, x, s, hidden, d), s, 10000);
                ks[s] = rope(project(k, kMap[h], x, s, hidden, d), s, 10000);
                vs[s] = project(v, vMap[h], x, s, hidden, d);
            }
            for (int s = 0; s < t; s++) {
                double[] logit = new double[s + 1];
                double max = Double.NEGATIVE_INFINITY;
                for (int u = 0; u <= s; u++) {
                    double dot = 0;
                    for (int i = 0; i < d; i++) dot += qs[s][i] * ks[u][i];
                    logit[u] = dot / Math.sqrt(d);
                    max = Math.max(max, logit[u]);
                }
                double z = 0;
                for (int u = 0; u <= s; u++) z += logit[u] = Math.exp(logit[u] - max);
                double[] ctx = new double[d];
                for (int u = 0; u <= s; u++) for (int i = 0; i < d; i++) ctx[i] += logit[u] / z * vs[u][i];
                for (int r = 0; r < hidden; r++) {
                    double acc = 0;
                    for (int i = 0; i < d; i++) acc += o[r * heads * d + h * d + i] * ctx[i];
                    out[s * hidden + r] += acc;
                }
            }
        }
        return out;
    }

    private static double[] project(float[] w, int head, double[] x, int s, int hidden, int d) {
        double[] y = new double[d];
        for (int i = 0; i < d; i++) {
            double acc = 0;
            for (int c = 0; c < hidden; c++) acc += w[(head * d + i) * hidden + c] * x[s * hidden + c];
            y[i] = acc;
        }
        return y;
    }

    static int[] identity(int n) {
        int[] a = new int[n];
        for (int i = 0; i < n; i++) a[i] = i;
        return a;
    }
}
