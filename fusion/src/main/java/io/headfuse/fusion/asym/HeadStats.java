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
     * hidden x hidden). Costs four hidden-size matrix products (W_q M, and W M then half of (W M) W^T for K and
     * V): the query and o_proj metrics need only each head's diagonal block, and the centred blocks follow from
     * the uncentred ones when the covariance is the moment less the mean's outer product, as calibration makes it.
     * Before, 11 (five full congruences and a gram).
     */
    public static HeadStats[] of(LayerWeights w, double[] secondMoment, double[] covariance) {
        int rows = w.heads() * w.headDim();
        int hidden = w.hidden(), d = w.headDim();
        double[] mean = MeanOuterProduct.meanOf(secondMoment, covariance, hidden);
        double[] kk = Linalg.congruence(w.k(), rows, hidden, secondMoment);
        double[] vv = Linalg.congruence(w.v(), rows, hidden, secondMoment);
        HeadStats k = new HeadStats(HeadKind.K, w.heads(), d, blocks(kk, w.heads(), d),
                blocks(centred(w.k(), kk, mean, covariance, rows, hidden), w.heads(), d),
                Linalg.congruenceDiagonal(w.q(), rows, hidden, secondMoment, d));
        HeadStats v = new HeadStats(HeadKind.V, w.heads(), d, blocks(vv, w.heads(), d),
                blocks(centred(w.v(), vv, mean, covariance, rows, hidden), w.heads(), d),
                Linalg.gramDiagonal(w.o(), hidden, rows, d));
        return new HeadStats[] {k, v};
    }

    /**
     * W Cov W^T: from W E[x x^T] W^T less (W mu)(W mu)^T when the covariance is known to be E[x x^T] - mu mu^T
     * ({@code mean} not null; a zero mean gives the moment itself), else the full product.
     */
    private static double[] centred(float[] w, double[] moment, double[] mean, double[] covariance, int rows, int hidden) {
        if (mean == null) return Linalg.congruence(w, rows, hidden, covariance);
        double[] wmu = new double[rows];
        boolean zero = true;
        for (int i = 0; i < rows; i++) {
            double s = 0;
            for (int p = 0; p < hidden; p++) s += w[i * hidden + p] * mean[p];
            wmu[i] = s;
            zero &= s == 0;
        }
        if (zero) return moment;
        double[] out = moment.clone();
        for (int i = 0; i < rows; i++)
            for (int j = 0; j < rows; j++) out[i * rows + j] -= wmu[i] * wmu[j];
        return out;
    }

    static double[][][] blocks(double[] full, int heads, int d) {
        double[][][] out = new double[heads][heads][];
        for (int i = 0; i < heads; i++)
            for (int j = 0; j < heads; j++) out[i][j] = Dense.block(full, heads * d, i, j, d);
        return out;
    }

    /**
     * What folding a layer with the given groups reads: the moment blocks within each group and every metric
     * (the other blocks null, no centred blocks), the same arrays. Kept from plan to apply so the layer's
     * hidden-size products are not computed twice.
     */
    public HeadStats within(Grouping g) {
        double[][][] kept = new double[heads][heads][];
        for (int i = 0; i < heads; i++)
            for (int j = 0; j < heads; j++) if (g.groupOf(i) == g.groupOf(j)) kept[i][j] = moment[i][j];
        return new HeadStats(kind, heads, headDim, kept, null, metric);
    }

    /** Bytes held by {@link #within}'s blocks (what keeping it costs). */
    public static long withinBytes(Grouping g, int headDim) {
        long blocks = g.heads();
        for (int[] m : g.allMembers()) blocks += (long) m.length * m.length;
        return blocks * headDim * headDim * Double.BYTES;
    }

    /** The model's sensitivity to each head's signal: sum of tr(metric_i E[h_i h_i^T]), the error of dropping every head. */
    public double energy(boolean weighted) {
        double e = 0;
        for (int i = 0; i < heads; i++)
            e += weighted ? Dense.traceOfProduct(metric[i], moment[i][i], headDim) : Dense.trace(moment[i][i], headDim);
        return e;
    }
}
