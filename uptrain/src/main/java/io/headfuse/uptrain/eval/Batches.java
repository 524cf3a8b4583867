package io.headfuse.uptrain.eval;

import java.util.ArrayList;
import java.util.List;

/**
 * Groups evaluation windows into batches: consecutive windows of equal length are stacked, at most {@code size}
 * at a time, and a window of another length (the short last one) starts a batch of its own. The order of the
 * windows is kept, so batched and unbatched runs see the same tokens.
 */
final class Batches {
    private Batches() {}

    /** [start, end) ranges of {@link TokenStream#windows}, grouped. */
    static List<List<int[]>> of(List<int[]> windows, int size) {
        if (size < 1) throw new IllegalArgumentException("batch must be at least 1, got " + size);
        List<List<int[]>> out = new ArrayList<>();
        List<int[]> current = new ArrayList<>();
        for (int[] w : windows) {
            boolean sameLength = current.isEmpty() || length(current.get(0)) == length(w);
            if (current.size() == size || !sameLength) {
                out.add(current);
                current = new ArrayList<>();
            }
            current.add(w);
        }
        if (!current.isEmpty()) out.add(current);
        return out;
    }

    private static int length(int[] range) { return range[1] - range[0]; }
}
