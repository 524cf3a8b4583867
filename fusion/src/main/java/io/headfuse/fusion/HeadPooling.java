package io.headfuse.fusion;

/**
 * Row-block arithmetic on projection weights stored [heads * headDim, cols] (HF's q/k/v_proj layout: head h owns
 * rows [h*d, (h+1)*d)). Math in fp32, accumulated in double so the mean does not depend on summation order.
 */
public final class HeadPooling {
    private HeadPooling() {}

    /** For each group, the mean of its heads' row blocks: returns [groups.length * d, cols]. */
    public static float[] meanRows(float[] w, int d, int cols, int[][] groups) {
        float[] out = new float[groups.length * d * cols];
        int block = d * cols;
        double[] acc = new double[block];
        for (int g = 0; g < groups.length; g++) {
            java.util.Arrays.fill(acc, 0);
            for (int h : groups[g]) {
                int base = h * block;
                for (int i = 0; i < block; i++) acc[i] += w[base + i];
            }
            int n = groups[g].length;
            for (int i = 0; i < block; i++) out[g * block + i] = (float) (acc[i] / n);
        }
        return out;
    }

    /** Row blocks reordered: block i of the result is block {@code order[i]} of {@code w}. */
    public static float[] permuteRows(float[] w, int d, int cols, int[] order) {
        float[] out = new float[w.length];
        int block = d * cols;
        for (int i = 0; i < order.length; i++) System.arraycopy(w, order[i] * block, out, i * block, block);
        return out;
    }

    /** Column blocks of a [rows, heads * d] matrix (o_proj) reordered: block i of the result is block {@code order[i]}. */
    public static float[] permuteColumns(float[] w, int rows, int d, int[] order) {
        int cols = order.length * d;
        float[] out = new float[w.length];
        for (int r = 0; r < rows; r++)
            for (int i = 0; i < order.length; i++) System.arraycopy(w, r * cols + order[i] * d, out, r * cols + i * d, d);
        return out;
    }
}
