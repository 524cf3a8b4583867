package io.headfuse.fusion;

/**
 * Mean-pooling of row blocks of projection weights stored [heads * headDim, cols] (HF's q/k/v_proj layout:
 * head h owns rows [h*d, (h+1)*d)). Math in fp32, accumulated in double so the mean does not depend on summation order.
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
}
