package io.headfuse.formats.calib;

/**
 * Streamed second-moment statistics of each layer's attention input (the output of {@code input_layernorm},
 * the vector every q/k/v projection reads), gathered over calibration text.
 *
 * <p>Why the input and not the K/V activations themselves: every per-head statistic the grouping, alignment and
 * least-squares steps need is a quadratic form of it. For heads i, j with projection rows W_i, W_j,
 * E[k_i k_j^T] = W_i E[x x^T] W_j^T (pre-RoPE), and the same for V and Q. One hidden x hidden matrix per layer
 * therefore stands for all head pairs of K, V and Q at once, in the memory of a single one of them.
 *
 * <p>{@code gram[l]} is the row-major sum over tokens of x x^T for layer l, {@code sum[l]} the sum of x;
 * divide by {@link #tokens()} for moments. Accumulate with {@link #add}, typically X^T X of a batch computed on
 * the accelerator.
 */
public final class CalibrationStats {
    private final int layers;
    private final int hidden;
    private final double[][] gram;
    private final double[][] sum;
    private final long[] tokens;

    public CalibrationStats(int layers, int hidden) {
        this.layers = layers;
        this.hidden = hidden;
        this.gram = new double[layers][hidden * hidden];
        this.sum = new double[layers][hidden];
        this.tokens = new long[layers];
    }

    public int layers() { return layers; }

    public int hidden() { return hidden; }

    /** Tokens accumulated (layer 0; every layer sees the same tokens). */
    public long tokens() { return tokens[0]; }

    /** Adds a batch: {@code xtx} = X^T X (hidden x hidden, row-major), {@code colSums} = sum of the rows of X, n rows. */
    public void add(int layer, float[] xtx, float[] colSums, int n) {
        if (xtx.length != hidden * hidden || colSums.length != hidden)
            throw new IllegalArgumentException("batch statistics of the wrong size for hidden " + hidden);
        double[] g = gram[layer];
        for (int i = 0; i < g.length; i++) g[i] += xtx[i];
        double[] s = sum[layer];
        for (int i = 0; i < s.length; i++) s[i] += colSums[i];
        tokens[layer] += n;
    }

    /** E[x x^T] of layer l, row-major hidden x hidden. */
    public double[] secondMoment(int layer) {
        double[] out = gram[layer].clone();
        double n = Math.max(1, tokens[layer]);
        for (int i = 0; i < out.length; i++) out[i] /= n;
        return out;
    }

    /** E[x] of layer l. */
    public double[] mean(int layer) {
        double[] out = sum[layer].clone();
        double n = Math.max(1, tokens[layer]);
        for (int i = 0; i < out.length; i++) out[i] /= n;
        return out;
    }

    /** Cov[x] = E[x x^T] - E[x] E[x]^T of layer l (for centred measures such as CKA). */
    public double[] covariance(int layer) {
        double[] m = mean(layer);
        double[] c = secondMoment(layer);
        for (int i = 0; i < hidden; i++)
            for (int j = 0; j < hidden; j++) c[i * hidden + j] -= m[i] * m[j];
        return c;
    }
}
