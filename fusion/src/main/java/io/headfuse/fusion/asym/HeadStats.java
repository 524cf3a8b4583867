package io.headfuse.fusion.asym;

/**
 * What the grouping, alignment and pooling steps know about the K (or V) heads of one layer, all as d x d blocks
 * (d = head_dim) derived from the layer's input moments:
 * <ul>
 *   <li>{@code moment[i][j]} = E[h_i h_j^T] = W_i E[x x^T] W_j^T, pre-RoPE: the Gram blocks every reconstruction
 *       error and Procrustes cross-statistic is a function of;</li>
 *   <li>{@code centred[i][j]}, the same with Cov[x]: for centred similarities (CKA);</li>
 *   <li>{@code metric[i]}, how much an error in head i's output costs the model: for K the query second moment
 *       E[q_i q_i^T] (an error dk changes the logit by q_i^T dk), for V O_i^T O_i (it reaches the residual
 *       stream through o_proj's column block).</li>
 * </ul>
 */
public record HeadStats(HeadKind kind, int heads, int headDim, double[][][] moment, double[][][] centred, double[][] metric) {

    /**
     * The K and V statistics of a layer given its input second moment E[x x^T] and covariance (row-major,
     * hidden x hidden). Costs a handful of hidden-size matrix products.
     */
    public static HeadStats[] of(LayerWeights w, double[] secondMoment, double[] covariance) {
        int rows = w.heads() * w.headDim();
        int hidden = w.hidden();
        double[] qq = Linalg.congruence(w.q(), rows, hidden, secondMoment);
        double[] oo = Linalg.gram(w.o(), hidden, rows);
        HeadStats k = new HeadStats(HeadKind.K, w.heads(), w.headDim(),
                blocks(Linalg.congruence(w.k(), rows, hidden, secondMoment), w.heads(), w.headDim()),
                blocks(Linalg.congruence(w.k(), rows, hidden, covariance), w.heads(), w.headDim()),
                diagonal(qq, w.heads(), w.headDim()));
        HeadStats v = new HeadStats(HeadKind.V, w.heads(), w.headDim(),
                blocks(Linalg.congruence(w.v(), rows, hidden, secondMoment), w.heads(), w.headDim()),
                blocks(Linalg.congruence(w.v(), rows, hidden, covariance), w.heads(), w.headDim()),
                diagonal(oo, w.heads(), w.headDim()));
        return new HeadStats[] {k, v};
    }

    static double[][][] blocks(double[] full, int heads, int d) {
        double[][][] out = new double[heads][heads][];
        for (int i = 0; i < heads; i++)
            for (int j = 0; j < heads; j++) out[i][j] = Dense.block(full, heads * d, i, j, d);
        return out;
    }

    static double[][] diagonal(double[] full, int heads, int d) {
        double[][] out = new double[heads][];
        for (int i = 0; i < heads; i++) out[i] = Dense.block(full, heads * d, i, i, d);
        return out;
    }

    /** The model's sensitivity to each head's signal: sum of tr(metric_i E[h_i h_i^T]), the error of dropping every head. */
    public double energy(boolean weighted) {
        double e = 0;
        for (int i = 0; i < heads; i++)
            e += weighted ? Dense.traceOfProduct(metric[i], moment[i][i], headDim) : Dense.trace(moment[i][i], headDim);
        return e;
    }
}
