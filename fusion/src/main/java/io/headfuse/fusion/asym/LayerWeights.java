package io.headfuse.fusion.asym;

/**
 * The attention projections of one multi-head layer as fp32 row-major arrays, in HF layout: {@code q}, {@code k}
 * and {@code v} are [heads * headDim, hidden] with head h in rows [h*headDim, (h+1)*headDim) (RoPE pairs dims
 * (i, i + headDim/2) of each head), {@code o} is [hidden, heads * headDim] with head h in the same column block.
 */
public record LayerWeights(float[] q, float[] k, float[] v, float[] o, int hidden, int heads, int headDim) {
    public LayerWeights {
        int rows = heads * headDim;
        if (headDim % 2 != 0) throw new IllegalArgumentException("head_dim " + headDim + " is odd: RoPE needs pairs");
        check("q_proj", q, (long) rows * hidden);
        check("k_proj", k, (long) rows * hidden);
        check("v_proj", v, (long) rows * hidden);
        check("o_proj", o, (long) hidden * rows);
    }

    private static void check(String name, float[] a, long expect) {
        if (a.length != expect)
            throw new IllegalArgumentException(name + " has " + a.length + " values, expected " + expect
                    + " (the asym strategy needs one kv head per query head)");
    }

    /** Rows of head h of a [heads*headDim, hidden] projection, widened to double (headDim x hidden). */
    double[] headRows(float[] w, int h) {
        double[] out = new double[headDim * hidden];
        int base = h * headDim * hidden;
        for (int i = 0; i < out.length; i++) out[i] = w[base + i];
        return out;
    }

    /** Column block of head h of o_proj (hidden x headDim). */
    double[] headColumns(int h) {
        int width = heads * headDim;
        double[] out = new double[hidden * headDim];
        for (int r = 0; r < hidden; r++)
            for (int c = 0; c < headDim; c++) out[r * headDim + c] = o[r * width + h * headDim + c];
        return out;
    }

    /** A copy whose arrays are fresh (the folds write into them). */
    public LayerWeights copy() { return new LayerWeights(q.clone(), k.clone(), v.clone(), o.clone(), hidden, heads, headDim); }
}
