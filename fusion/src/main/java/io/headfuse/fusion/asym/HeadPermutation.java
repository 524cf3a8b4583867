package io.headfuse.fusion.asym;

/**
 * Reorders query heads: the rows of q_proj and the column blocks of o_proj move together, and the head maps
 * follow, so the layer computes exactly the same function (attention heads are independent until o_proj sums
 * them). Used to make every group a run of consecutive heads, the only layout a standard GQA checkpoint can say.
 */
public final class HeadPermutation {
    private HeadPermutation() {}

    /** The query order that lists group 0's members, then group 1's, ...: {@code order[newHead] = oldHead}. */
    public static int[] contiguousOrder(Grouping g) {
        int[] order = new int[g.heads()];
        int p = 0;
        for (int[] m : g.allMembers()) for (int h : m) order[p++] = h;
        return order;
    }

    /** Rows of a [heads*headDim, cols] projection in the new head order. */
    public static float[] rows(float[] w, int[] order, int headDim, int cols) {
        float[] out = new float[w.length];
        int block = headDim * cols;
        for (int p = 0; p < order.length; p++) System.arraycopy(w, order[p] * block, out, p * block, block);
        return out;
    }

    /** Column blocks of o_proj [rows, heads*headDim] in the new head order. */
    public static float[] columns(float[] o, int[] order, int headDim, int rows) {
        int width = order.length * headDim;
        float[] out = new float[o.length];
        for (int r = 0; r < rows; r++)
            for (int p = 0; p < order.length; p++)
                System.arraycopy(o, r * width + order[p] * headDim, out, r * width + p * headDim, headDim);
        return out;
    }

    /** A head map (query head -> kv head) seen from the new order. */
    public static int[] map(int[] map, int[] order) {
        int[] out = new int[order.length];
        for (int p = 0; p < order.length; p++) out[p] = map[order[p]];
        return out;
    }
}
