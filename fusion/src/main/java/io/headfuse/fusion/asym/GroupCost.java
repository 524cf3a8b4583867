package io.headfuse.fusion.asym;

import java.util.Arrays;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * What a grouping search minimises, group by group: the total of a partition is the sum over its groups.
 * Costs must be zero for a single head (nothing is merged) so Ward's merge criterion is the increase of the total.
 */
@FunctionalInterface
public interface GroupCost {
    /** The cost of merging the given heads (ascending, distinct) into one kv head. */
    double cost(int[] members);

    default double total(Grouping g) {
        double t = 0;
        for (int[] m : g.allMembers()) t += cost(m);
        return t;
    }

    /**
     * Prices, ahead of a search step, the groups it is about to ask for, so their costs are ready when asked. Only
     * a {@link #cached} cost does anything here: it prices the new ones on every core (a 7B layer's step asks for
     * ~900 groups at ~0.4 s each); any other cost is left to be called one group at a time, as before, so a cost
     * that is not thread-safe is never called concurrently.
     */
    default void prefetch(Collection<int[]> groups) {}

    /**
     * Remembers every group it has priced: searches revisit the same groups many times. Thread-safe, and
     * {@link #prefetch} prices new groups in parallel; the cost must then be a pure function of the members (every
     * cost here is), so the search's decisions do not depend on which thread priced what.
     */
    default GroupCost cached() {
        GroupCost self = this;
        Map<String, Double> memo = new ConcurrentHashMap<>();
        return new GroupCost() {
            @Override public double cost(int[] members) {
                String key = Arrays.toString(members);
                Double c = memo.get(key);
                if (c == null) {
                    // Priced outside the map's lock: a slow price must not block other keys of the same bin.
                    c = self.cost(members);
                    memo.putIfAbsent(key, c);
                }
                return c;
            }

            @Override public void prefetch(Collection<int[]> groups) {
                Map<String, int[]> todo = new LinkedHashMap<>();
                for (int[] g : groups) {
                    String key = Arrays.toString(g);
                    if (!memo.containsKey(key)) todo.putIfAbsent(key, g);
                }
                if (todo.size() > 1) todo.entrySet().parallelStream().forEach(e -> memo.putIfAbsent(e.getKey(), self.cost(e.getValue())));
            }
        };
    }

    default GroupCost plus(GroupCost other) {
        GroupCost self = this;
        return new GroupCost() {
            @Override public double cost(int[] members) { return self.cost(members) + other.cost(members); }

            @Override public void prefetch(Collection<int[]> groups) {
                self.prefetch(groups);
                other.prefetch(groups);
            }
        };
    }

    /**
     * The reconstruction error of the pooled head relative to the layer's total (so K and V errors add up on one
     * scale when both must share a grouping): 0 is lossless, 1 as bad as dropping the heads.
     */
    static GroupCost poolError(HeadStats s, GroupFit.Method method) {
        double energy = s.energy(method.weighted());
        double scale = energy > 0 ? 1 / energy : 1;
        return members -> members.length < 2 ? 0 : GroupFit.fit(s, members, method).error() * scale;
    }

    /**
     * Ward's within-group sum of squares on a similarity: (1/m) sum over pairs of (1 - sim). For the cosine
     * this is exactly the scatter of the unit-normalised activations; with equal group sizes it ranks partitions
     * as the negative within-group similarity does.
     */
    static GroupCost dissimilarity(double[][] sim) {
        return members -> {
            double s = 0;
            for (int a = 0; a < members.length; a++)
                for (int b = a + 1; b < members.length; b++) s += 1 - sim[members[a]][members[b]];
            return members.length == 0 ? 0 : s / members.length;
        };
    }
}
