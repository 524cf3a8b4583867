package io.headfuse.fusion.asym;

import java.util.Collections;
import java.util.Map;
import java.util.WeakHashMap;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Aligns the heads of one group before they are merged (arXiv 2412.20677, "Align Attention Heads Before Merging
 * Them"): each head h_i is replaced by R_i h_i for an orthogonal R_i that the model can absorb, chosen so the
 * rotated heads agree as well as possible on the calibration statistics, min sum_i E|R_i h_i - mean|^2.
 *
 * <p>Solved as generalised Procrustes: start from the first member as the reference, then a few rounds of
 * aligning every member to the current mean. Each round cannot increase the spread, so a couple of rounds are
 * enough. The cross-statistic of head i against the mean is M_i = E[mean h_i^T] = (1/m) sum_j R_j G_ji, and the
 * best rotation maximises tr(R_i M_i^T):
 * <ul>
 *   <li>V: any orthogonal matrix, U V^T for M = U S V^T (folded as v_i <- R v_i, o_i <- o_i R^T, so W_o W_v is
 *       unchanged);</li>
 *   <li>K: only rotations inside each RoPE plane (p, p + d/2), which commute with RoPE; the angle per plane is
 *       atan2(M[p+h][p] - M[p][p+h], M[p][p] + M[p+h][p+h]) (folded into both q_i and k_i rows, so
 *       q^T RoPE k is unchanged).</li>
 * </ul>
 */
public final class Alignment {
    /** Rounds of realigning to the mean after the first alignment to the reference member. */
    public static final int DEFAULT_ROUNDS = 3;

    private Alignment() {}

    /** One d x d orthogonal matrix per member, in the order of {@code members}. */
    public static double[][] rotations(HeadStats s, int[] members, int rounds) {
        int m = members.length, d = s.headDim();
        double[][] r = new double[m][];
        for (int a = 0; a < m; a++) r[a] = Dense.identity(d);
        if (m == 1) return r;
        double[][][] g = s.moment();
        for (int a = 1; a < m; a++)
            // V's first alignment depends on the pair (reference, member) alone: the swap search meets each pair in
            // many candidate groups, so its polar factor is computed once per layer.
            r[a] = s.kind() == HeadKind.V ? pairPolar(s, members[0], members[a]) : ropePlanes(g[members[0]][members[a]], d);
        for (int round = 0; round < rounds; round++) {
            double[][] next = new double[m][];
            for (int a = 0; a < m; a++) {
                double[] cross = new double[d * d];
                for (int b = 0; b < m; b++) Dense.addInto(cross, Dense.mul(r[b], g[members[b]][members[a]], d), 1.0 / m);
                next[a] = best(s.kind(), cross, d);
            }
            r = next;
        }
        return r;
    }

    /** The absorbable orthogonal R maximising tr(R M^T), for M = E[ref h^T]. */
    static double[] best(HeadKind kind, double[] m, int d) {
        return kind == HeadKind.V ? Linalg.polar(m, d) : ropePlanes(m, d);
    }

    /** Per layer's V statistics (weakly, so a layer's entries go with its statistics): pair i * heads + j's polar. */
    private static final Map<HeadStats, Map<Integer, double[]>> PAIRS = Collections.synchronizedMap(new WeakHashMap<>());

    private static double[] pairPolar(HeadStats s, int i, int j) {
        Map<Integer, double[]> pairs = PAIRS.computeIfAbsent(s, k -> new ConcurrentHashMap<>());
        int key = i * s.heads() + j;
        double[] q = pairs.get(key);
        if (q == null) {
            q = Linalg.polar(s.moment()[i][j], s.headDim());
            double[] raced = pairs.putIfAbsent(key, q);
            if (raced != null) q = raced;
        }
        return q;
    }

    /** Block rotation in the RoPE planes (p, p + d/2), each angle maximising its plane's share of tr(R M^T). */
    public static double[] ropePlanes(double[] m, int d) {
        int h = d / 2;
        double[] r = new double[d * d];
        for (int p = 0; p < h; p++) {
            int q = p + h;
            double theta = Math.atan2(m[q * d + p] - m[p * d + q], m[p * d + p] + m[q * d + q]);
            double c = Math.cos(theta), sn = Math.sin(theta);
            r[p * d + p] = c;
            r[p * d + q] = -sn;
            r[q * d + p] = sn;
            r[q * d + q] = c;
        }
        return r;
    }

    /** The spread sum_i E|R_i h_i - mean|^2 of a group under the given rotations (what alignment minimises). */
    public static double spread(HeadStats s, int[] members, double[][] r) {
        int m = members.length, d = s.headDim();
        double self = 0, meanSq = 0;
        for (int a = 0; a < m; a++) {
            self += Dense.trace(s.moment()[members[a]][members[a]], d);
            for (int b = 0; b < m; b++)
                meanSq += Dense.trace(Dense.sandwich(r[a], s.moment()[members[a]][members[b]], r[b], d), d);
        }
        return self - meanSq / m;
    }
}
