package io.headfuse.fusion.asym;

import java.util.ArrayList;
import java.util.List;

/**
 * Agglomerative grouping for unequal group sizes: start from one group per head and merge, while there are more
 * groups than kv heads, the two whose union raises the total cost least (Ward's criterion when the cost is a
 * within-group sum of squares). Deterministic; ties go to the lowest head indices.
 */
public final class Ward {
    private Ward() {}

    public static Grouping run(int heads, int groups, GroupCost cost) {
        if (groups <= 0 || groups > heads) throw new IllegalArgumentException(groups + " groups for " + heads + " heads");
        return merge(heads, groups, cost, null);
    }

    /**
     * The whole merge sequence from one group per head down to one group: element {@code c - 1} is the grouping
     * into {@code c} groups (what {@link #run} with {@code c} groups returns), so one pass prices every count.
     */
    public static List<Grouping> hierarchy(int heads, GroupCost cost) {
        Grouping[] byCount = new Grouping[heads];
        merge(heads, 1, cost, byCount);
        return List.of(byCount);
    }

    /** Merges down to {@code groups}, recording every intermediate grouping by its count when {@code byCount} is given. */
    private static Grouping merge(int heads, int groups, GroupCost cost, Grouping[] byCount) {
        List<int[]> clusters = new ArrayList<>();
        List<Double> costs = new ArrayList<>();
        for (int h = 0; h < heads; h++) {
            clusters.add(new int[] {h});
            costs.add(cost.cost(new int[] {h}));
        }
        while (true) {
            if (byCount != null) byCount[clusters.size() - 1] = Grouping.of(clusters.toArray(int[][]::new));
            if (clusters.size() <= groups) break;
            List<int[]> unions = new ArrayList<>();
            for (int a = 0; a < clusters.size(); a++)
                for (int b = a + 1; b < clusters.size(); b++) unions.add(union(clusters.get(a), clusters.get(b)));
            cost.prefetch(unions);
            int ba = -1, bb = -1;
            double best = Double.POSITIVE_INFINITY, bestCost = 0;
            for (int a = 0; a < clusters.size(); a++)
                for (int b = a + 1; b < clusters.size(); b++) {
                    int[] u = union(clusters.get(a), clusters.get(b));
                    double cu = cost.cost(u);
                    double inc = cu - costs.get(a) - costs.get(b);
                    if (inc < best - 1e-15) {
                        best = inc;
                        ba = a;
                        bb = b;
                        bestCost = cu;
                    }
                }
            clusters.set(ba, union(clusters.get(ba), clusters.get(bb)));
            costs.set(ba, bestCost);
            clusters.remove(bb);
            costs.remove(bb);
        }
        return Grouping.of(clusters.toArray(int[][]::new));
    }

    static int[] union(int[] a, int[] b) {
        int[] u = new int[a.length + b.length];
        int i = 0, j = 0, k = 0;
        while (i < a.length || j < b.length) u[k++] = j >= b.length || (i < a.length && a[i] < b[j]) ? a[i++] : b[j++];
        return u;
    }
}
