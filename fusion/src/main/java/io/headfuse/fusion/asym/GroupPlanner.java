package io.headfuse.fusion.asym;

/** Chooses the K and V groups of one layer from its head statistics. */
public final class GroupPlanner {
    private GroupPlanner() {}

    public static LayerGroups plan(int layer, HeadStats k, HeadStats v, AsymOptions o) {
        long t0 = System.nanoTime();
        int n = k.heads();
        if (o.kvHeads() > n) throw new IllegalArgumentException(o.kvHeads() + " kv heads is more than the " + n + " heads");
        if (o.search() == AsymOptions.Search.SWAPS && n % o.kvHeads() != 0)
            throw new IllegalArgumentException(o.kvHeads() + " kv heads do not divide " + n + " heads: equal groups are impossible (use Ward for unequal groups)");
        double[][] simK = o.similarity().matrix(k), simV = o.similarity().matrix(v);
        GroupFit.Method method = o.method();
        GroupCost errK = GroupCost.poolError(k, method).cached();
        GroupCost errV = GroupCost.poolError(v, method).cached();
        GroupCost costK = o.objective() == AsymOptions.Objective.RECONSTRUCTION ? errK : GroupCost.dissimilarity(simK).cached();
        GroupCost costV = o.objective() == AsymOptions.Objective.RECONSTRUCTION ? errV : GroupCost.dissimilarity(simV).cached();
        Grouping gk, gv;
        if (o.coupled()) {
            gk = gv = search(n, costK.plus(costV), o, 0);
        } else {
            gk = search(n, costK, o, 0);
            gv = search(n, costV, o, 1);
        }
        Grouping base = n % o.kvHeads() == 0 ? Grouping.contiguous(n, o.kvHeads()) : null;
        double kBase = base == null ? Double.NaN : GroupCost.poolError(k, GroupFit.Method.MEAN_POOL).total(base);
        double vBase = base == null ? Double.NaN : GroupCost.poolError(v, GroupFit.Method.MEAN_POOL).total(base);
        return new LayerGroups(layer, gk, gv, simK, simV, errK.total(gk), errV.total(gv), kBase, vBase, System.nanoTime() - t0);
    }

    private static Grouping search(int n, GroupCost cost, AsymOptions o, int stream) {
        return switch (o.search()) {
            case SWAPS -> LocalSearch.run(n, o.kvHeads(), cost, o.seed() * 31 + stream, o.restarts()).grouping();
            case WARD -> Ward.run(n, o.kvHeads(), cost);
        };
    }
}
