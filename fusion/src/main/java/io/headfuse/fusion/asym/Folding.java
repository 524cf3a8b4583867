package io.headfuse.fusion.asym;

/**
 * Writes a plan into weights, in two steps that can be checked separately: {@link #rotate} folds the alignment
 * rotations into the MHA weights (the model computes exactly the same), {@link #pool} merges each group's rotated
 * heads into one kv head (the lossy step).
 */
public final class Folding {
    private Folding() {}

    /** The fits of every group of a grouping, in group order. */
    public static GroupFit[] fits(HeadStats s, Grouping g, GroupFit.Method method) {
        GroupFit[] out = new GroupFit[g.groups()];
        for (int c = 0; c < g.groups(); c++) out[c] = GroupFit.fit(s, g.members(c), method);
        return out;
    }

    /**
     * K rotations go into q_proj and k_proj rows of the head (RoPE-plane rotations commute with RoPE, so
     * q^T RoPE k is unchanged); V rotations into v_proj rows and o_proj columns (o_i R^T R v_i = o_i v_i).
     */
    public static LayerWeights rotate(LayerWeights w, GroupFit[] kFits, GroupFit[] vFits) {
        LayerWeights out = w.copy();
        int d = w.headDim(), hidden = w.hidden();
        for (GroupFit f : kFits)
            for (int a = 0; a < f.members().length; a++) {
                int h = f.members()[a];
                double[] r = f.rotations()[a];
                putRows(out.q(), h, Dense.mul(r, w.headRows(w.q(), h), d, d, hidden), d, hidden);
                putRows(out.k(), h, Dense.mul(r, w.headRows(w.k(), h), d, d, hidden), d, hidden);
            }
        for (GroupFit f : vFits)
            for (int a = 0; a < f.members().length; a++) {
                int h = f.members()[a];
                double[] r = f.rotations()[a];
                putRows(out.v(), h, Dense.mul(r, w.headRows(w.v(), h), d, d, hidden), d, hidden);
                putColumns(out.o(), h, Dense.mul(w.headColumns(h), Dense.transpose(r, d, d), hidden, d, d), d, hidden, w.heads());
            }
        return out;
    }

    /**
     * Pools each group of already rotated weights into one kv head, sum_j C_j h_j. Returns k and v as
     * [groups * headDim, hidden], group c in block c.
     */
    public static float[][] pool(LayerWeights rotated, GroupFit[] kFits, GroupFit[] vFits) {
        return new float[][] {poolRows(rotated, rotated.k(), kFits), poolRows(rotated, rotated.v(), vFits)};
    }

    private static float[] poolRows(LayerWeights w, float[] proj, GroupFit[] fits) {
        int d = w.headDim(), hidden = w.hidden();
        float[] out = new float[fits.length * d * hidden];
        for (int c = 0; c < fits.length; c++) {
            GroupFit f = fits[c];
            double[] acc = new double[d * hidden];
            for (int a = 0; a < f.members().length; a++)
                Dense.addInto(acc, Dense.mul(f.coefficients()[a], w.headRows(proj, f.members()[a]), d, d, hidden), 1);
            putRows(out, c, acc, d, hidden);
        }
        return out;
    }

    static void putRows(float[] w, int h, double[] rows, int d, int hidden) {
        int base = h * d * hidden;
        for (int i = 0; i < d * hidden; i++) w[base + i] = (float) rows[i];
    }

    static void putColumns(float[] o, int h, double[] cols, int d, int hidden, int heads) {
        int width = heads * d;
        for (int r = 0; r < hidden; r++)
            for (int c = 0; c < d; c++) o[r * width + h * d + c] = (float) cols[r * d + c];
    }
}
