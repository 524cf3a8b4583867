package io.headfuse.fusion.asym;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Equal-size grouping by local search with swaps: from a start partition, repeatedly apply the swap of two heads
 * in different groups that lowers the total cost most, until no swap helps. The first start is the contiguous
 * grouping mean-pooling uses (so the result is never worse than it); further starts are random partitions drawn
 * from a generator seeded with {@code seed}, so the result depends only on the seed.
 */
public final class LocalSearch {
    private static final double EPS = 1e-12;

    private LocalSearch() {}

    /** The best grouping found, the cost of the first (contiguous) start, and the swaps it took. */
    public record Result(Grouping grouping, double cost, double startCost, int swaps) {}

    public static Result run(int heads, int groups, GroupCost cost, long seed, int restarts) {
        SplittableRandom rng = new SplittableRandom(seed);
        Result best = null;
        double firstStart = Double.NaN;
        int totalSwaps = 0;
        for (int r = 0; r < Math.max(1, restarts); r++) {
            int[] start = r == 0 ? Grouping.contiguous(heads, groups).groupOf() : randomEqual(heads, groups, rng);
            Result res = descend(start, groups, cost);
            if (r == 0) firstStart = res.startCost();
            totalSwaps += res.swaps();
            if (best == null || res.cost() < best.cost() - EPS) best = res;
        }
        return new Result(best.grouping(), best.cost(), firstStart, totalSwaps);
    }

    /** Best-improvement descent from one start. */
    public static Result descend(int[] start, int groups, GroupCost cost) {
        int n = start.length;
        int[] g = start.clone();
        double[] groupCost = new double[groups];
        List<int[]> first = new ArrayList<>();
        for (int k = 0; k < groups; k++) first.add(members(g, k, -1, -1));
        cost.prefetch(first);
        for (int k = 0; k < groups; k++) groupCost[k] = cost.cost(first.get(k));
        double startCost = sum(groupCost);
        int swaps = 0;
        while (true) {
            cost.prefetch(swapCandidates(g));
            double bestDelta = -EPS;
            int bi = -1, bj = -1;
            double bestA = 0, bestB = 0;
            for (int i = 0; i < n; i++)
                for (int j = i + 1; j < n; j++) {
                    int a = g[i], b = g[j];
                    if (a == b) continue;
                    double ca = cost.cost(members(g, a, i, j));
                    double cb = cost.cost(members(g, b, j, i));
                    double delta = ca + cb - groupCost[a] - groupCost[b];
                    if (delta < bestDelta) {
                        bestDelta = delta;
                        bi = i;
                        bj = j;
                        bestA = ca;
                        bestB = cb;
                    }
                }
            if (bi < 0) break;
            int a = g[bi], b = g[bj];
            g[bi] = b;
            g[bj] = a;
            groupCost[a] = bestA;
            groupCost[b] = bestB;
            swaps++;
        }
        return new Result(new Grouping(g, groups), sum(groupCost), startCost, swaps);
    }

    /** The groups a best-improvement step prices: both sides of every swap of two heads in different groups. */
    static List<int[]> swapCandidates(int[] g) {
        List<int[]> out = new ArrayList<>();
        for (int i = 0; i < g.length; i++)
            for (int j = i + 1; j < g.length; j++) {
                if (g[i] == g[j]) continue;
                out.add(members(g, g[i], i, j));
                out.add(members(g, g[j], j, i));
            }
        return out;
    }

    /** Members of group k after head {@code out} leaves it and head {@code in} joins it (none when -1), ascending. */
    static int[] members(int[] g, int k, int out, int in) {
        int count = 0;
        for (int h = 0; h < g.length; h++) if ((g[h] == k && h != out) || h == in) count++;
        int[] m = new int[count];
        int c = 0;
        for (int h = 0; h < g.length; h++) if ((g[h] == k && h != out) || h == in) m[c++] = h;
        return m;
    }

    private static int[] randomEqual(int heads, int groups, SplittableRandom rng) {
        int[] perm = new int[heads];
        for (int i = 0; i < heads; i++) perm[i] = i;
        for (int i = heads - 1; i > 0; i--) {
            int j = rng.nextInt(i + 1);
            int t = perm[i];
            perm[i] = perm[j];
            perm[j] = t;
        }
        int[] g = new int[heads];
        for (int i = 0; i < heads; i++) g[perm[i]] = i / (heads / groups);
        return g;
    }

    private static double sum(double[] a) {
        double s = 0;
        for (double v : a) s += v;
        return s;
    }
}
