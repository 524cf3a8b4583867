package io.headfuse.fusion.asym;

import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;

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

    /** Remembers every group it has priced: searches revisit the same groups many times. */
    default GroupCost cached() {
        GroupCost self = this;
        Map<String, Double> memo = new HashMap<>();
        return members -> memo.computeIfAbsent(Arrays.toString(members), k -> self.cost(members));
    }

    default GroupCost plus(GroupCost other) {
        GroupCost self = this;
        return members -> self.cost(members) + other.cost(members);
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
