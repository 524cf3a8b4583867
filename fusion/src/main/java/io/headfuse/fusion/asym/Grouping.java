package io.headfuse.fusion.asym;

import java.util.Arrays;

/**
 * Which kv head each of a layer's heads is merged into: {@code groupOf[h]} in [0, groups). Kept canonical: groups
 * are numbered in the order of their smallest member, so equal partitions compare equal.
 */
public record Grouping(int[] groupOf, int groups) {
    public Grouping {
        groupOf = canonical(groupOf);
        int seen = 0;
        for (int g : groupOf) seen = Math.max(seen, g + 1);
        if (seen != groups) throw new IllegalArgumentException("grouping uses " + seen + " groups, declared " + groups);
    }

    /** Mean-pooling's grouping: consecutive runs of heads/groups heads, as transformers reads a GQA checkpoint. */
    public static Grouping contiguous(int heads, int groups) {
        if (groups <= 0 || heads % groups != 0)
            throw new IllegalArgumentException(groups + " kv heads do not divide " + heads + " heads");
        int[] g = new int[heads];
        for (int h = 0; h < heads; h++) g[h] = h / (heads / groups);
        return new Grouping(g, groups);
    }

    public static Grouping of(int[][] members) {
        int n = 0;
        for (int[] m : members) n += m.length;
        int[] g = new int[n];
        Arrays.fill(g, -1);
        for (int k = 0; k < members.length; k++)
            for (int h : members[k]) {
                if (h < 0 || h >= n || g[h] >= 0) throw new IllegalArgumentException("not a partition of 0.." + (n - 1) + ": " + Arrays.deepToString(members));
                g[h] = k;
            }
        return new Grouping(g, members.length);
    }

    private static int[] canonical(int[] groupOf) {
        int max = -1;
        for (int g : groupOf) {
            if (g < 0) throw new IllegalArgumentException("negative group index");
            max = Math.max(max, g);
        }
        int[] relabel = new int[max + 1];
        Arrays.fill(relabel, -1);
        int next = 0;
        int[] out = new int[groupOf.length];
        for (int h = 0; h < groupOf.length; h++) {
            if (relabel[groupOf[h]] < 0) relabel[groupOf[h]] = next++;
            out[h] = relabel[groupOf[h]];
        }
        return out;
    }

    @Override public int[] groupOf() { return groupOf.clone(); }

    public int heads() { return groupOf.length; }

    public int groupOf(int head) { return groupOf[head]; }

    /** The heads of group k, ascending. */
    public int[] members(int k) {
        return java.util.stream.IntStream.range(0, groupOf.length).filter(h -> groupOf[h] == k).toArray();
    }

    public int[][] allMembers() {
        int[][] out = new int[groups][];
        for (int k = 0; k < groups; k++) out[k] = members(k);
        return out;
    }

    /** True when every group has heads/groups members (what a standard GQA checkpoint can express). */
    public boolean equalSizes() {
        for (int k = 0; k < groups; k++) if (members(k).length * groups != groupOf.length) return false;
        return true;
    }

    /** True when the groups are runs of consecutive heads in order (no query permutation needed). */
    public boolean isContiguous() { return equalSizes() && equals(contiguous(heads(), groups)); }

    @Override public boolean equals(Object o) {
        return o instanceof Grouping g && g.groups == groups && Arrays.equals(g.groupOf, groupOf);
    }

    @Override public int hashCode() { return Arrays.hashCode(groupOf) * 31 + groups; }

    /** e.g. {@code [0 3][1 2][4 5 6 7]}. */
    @Override public String toString() {
        StringBuilder sb = new StringBuilder();
        for (int[] m : allMembers()) {
            sb.append('[');
            for (int i = 0; i < m.length; i++) sb.append(i == 0 ? "" : " ").append(m[i]);
            sb.append(']');
        }
        return sb.toString();
    }
}
