import io.headfuse.formats.Floats;
import io.headfuse.fusion.asym.AsymStrategy;
import io.headfuse.fusion.asym.GroupCost;
import io.headfuse.fusion.asym.GroupFit;
import io.headfuse.fusion.asym.HeadStats;
import io.headfuse.fusion.asym.LayerWeights;
import io.headfuse.fusion.asym.Linalg;
import io.headfuse.fusion.asym.LocalSearch;
import io.headfuse.fusion.asym.AsymOptions;
import io.headfuse.fusion.linalg.LinalgBackend;
import io.headfuse.fusion.linalg.Svd;
import java.util.Arrays;
import java.util.HashSet;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * What the asym kv 8 conversion of bench/SyntheticCheckpoint's Llama-2-7B shapes (hidden 4096, 32 heads of 128)
 * asks of the linear algebra, per layer: the Linalg calls (operation and sizes, count, seconds) of the head
 * statistics and of pricing one group, and how many groups the swap search prices. Weights are made as
 * SyntheticCheckpoint makes them (a 1 MiB block of bf16 N(0, 0.02^2) values repeated, so every head is the same);
 * the input moment is a random full-rank one (B B^T / 512 + 0.1 I, B 4096 x 512 Gaussian) with a small mean.
 *
 * usage: java -cp <fusion classpath> bench/Linalg7B.java [hidden heads kv]   (HEADFUSE_LINALG picks the backend)
 */
public class Linalg7B {
    record Key(String op, String shape) implements Comparable<Key> {
        public int compareTo(Key o) { return (op + shape).compareTo(o.op + o.shape); }
    }

    /** Counts and times every call into the installed backend. */
    static final class Counting implements LinalgBackend {
        final LinalgBackend inner;
        final Map<Key, long[]> calls = new TreeMap<>();

        Counting(LinalgBackend inner) { this.inner = inner; }

        synchronized void note(String op, String shape, long nanos) {
            long[] c = calls.computeIfAbsent(new Key(op, shape), k -> new long[2]);
            c[0]++;
            c[1] += nanos;
        }

        public String name() { return inner.name(); }

        public double[] mul(double[] a, double[] b, int r, int k, int c) {
            long t = System.nanoTime();
            double[] out = inner.mul(a, b, r, k, c);
            note("mul", r + "x" + k + " * " + k + "x" + c, System.nanoTime() - t);
            return out;
        }

        public double[] congruence(float[] w, int r, int c, double[] m) {
            long t = System.nanoTime();
            double[] out = inner.congruence(w, r, c, m);
            note("congruence", r + "x" + c + " M " + c + "x" + c, System.nanoTime() - t);
            return out;
        }

        public double[] gram(float[] a, int r, int c) {
            long t = System.nanoTime();
            double[] out = inner.gram(a, r, c);
            note("gram", r + "x" + c, System.nanoTime() - t);
            return out;
        }

        public Svd svd(double[] m, int n) {
            long t = System.nanoTime();
            Svd out = inner.svd(m, n);
            note("svd", n + "x" + n, System.nanoTime() - t);
            return out;
        }

        synchronized void print(String title) {
            System.out.println(title);
            calls.forEach((k, v) -> System.out.printf("  %-10s %-24s %7d calls %9.3f s (%.2f ms each)%n", k.op(), k.shape(), v[0], v[1] / 1e9, v[1] / 1e6 / v[0]));
            calls.clear();
        }
    }

    public static void main(String[] a) {
        int hidden = a.length > 0 ? Integer.parseInt(a[0]) : 4096, heads = a.length > 1 ? Integer.parseInt(a[1]) : 32;
        int kv = a.length > 2 ? Integer.parseInt(a[2]) : 8, d = hidden / heads;
        Counting counting = new Counting(Linalg.backend());
        Linalg.install(counting);
        // SyntheticCheckpoint's values: one 1 MiB block of bf16, repeated through every tensor.
        Random rnd = new Random(42);
        float[] block = new float[1 << 19];
        for (int i = 0; i < block.length; i++) block[i] = Floats.bf16ToFloat(Floats.floatToBf16((float) (rnd.nextGaussian() * 0.02)));
        float[] wt = new float[hidden * hidden];
        for (int i = 0; i < wt.length; i++) wt[i] = block[i % block.length];
        LayerWeights w = new LayerWeights(wt, wt, wt, wt, hidden, heads, d);
        Random r = new Random(7);
        double[] b = new double[hidden * 512];
        for (int i = 0; i < b.length; i++) b[i] = r.nextGaussian();
        double[] bt = new double[b.length];
        for (int i = 0; i < hidden; i++) for (int j = 0; j < 512; j++) bt[j * hidden + i] = b[i * 512 + j];
        double[] m = Linalg.mul(b, bt, hidden, 512, hidden);
        double[] mu = new double[hidden];
        for (int i = 0; i < hidden; i++) mu[i] = 0.1 * r.nextGaussian();
        double[] cov = new double[m.length];
        for (int i = 0; i < hidden; i++)
            for (int j = 0; j < hidden; j++) {
                m[i * hidden + j] = m[i * hidden + j] / 512 + (i == j ? 0.1 : 0) + mu[i] * mu[j];
                cov[i * hidden + j] = m[i * hidden + j] - mu[i] * mu[j];
            }
        counting.calls.clear();
        System.out.printf("backend %s, %d cores; hidden %d, %d heads of %d, kv %d%n", counting.name(), Runtime.getRuntime().availableProcessors(), hidden, heads, d, kv);

        long t0 = System.nanoTime();
        HeadStats[] s = HeadStats.of(w, m, cov);
        double statsSeconds = (System.nanoTime() - t0) / 1e9;
        counting.print(String.format("HeadStats.of: %.1f s (twice per layer: plan, then apply)", statsSeconds));

        AsymOptions o = AsymStrategy.Settings.defaults().options(kv);
        GroupFit.Method method = o.method();
        int[] members = new int[heads / kv];
        for (int i = 0; i < members.length; i++) members[i] = i * kv;
        GroupFit.fit(s[0], members, method); // warm-up
        GroupFit.fit(s[1], members, method);
        counting.calls.clear();
        int reps = 3;
        t0 = System.nanoTime();
        for (int i = 0; i < reps; i++) {
            GroupFit.fit(s[0], members, method);
            GroupFit.fit(s[1], members, method);
        }
        double groupSeconds = (System.nanoTime() - t0) / 1e9 / reps;
        counting.print(String.format("pricing one group of %d (K and V, %s): %.3f s, single thread (%d repetitions)", members.length, o.describe(), groupSeconds, reps));

        // How many distinct groups the swap search prices: identical heads (this checkpoint: every swap is a tie, so
        // each start is one pass), and a cost with real descents (random pairwise dissimilarity).
        long same = searched(heads, kv, m2 -> 1.0, o);
        double[][] sim = new double[heads][heads];
        for (int i = 0; i < heads; i++) for (int j = 0; j < heads; j++) sim[i][j] = sim[j][i] = i == j ? 1 : r.nextDouble();
        long real = searched(heads, kv, GroupCost.dissimilarity(sim), o);
        System.out.printf("groups priced per layer (restarts %d): %d with identical heads, %d with a random cost%n", o.restarts(), same, real);
        for (long groups : new long[] {same, real})
            for (int cores : new int[] {2, 16})
                System.out.printf("estimate for 32 layers, %d groups a layer, %2d cores: %.0f s (stats %.0f s + search %.0f s)%n", groups, cores,
                        32 * (2 * statsSeconds * Math.min(1.0, 2.0 / cores) + groups * groupSeconds / cores), 64 * statsSeconds * Math.min(1.0, 2.0 / cores),
                        32 * groups * groupSeconds / cores);
    }

    static long searched(int heads, int kv, GroupCost cost, AsymOptions o) {
        Set<String> seen = new HashSet<>();
        AtomicLong calls = new AtomicLong();
        LocalSearch.run(heads, kv, members -> {
            calls.incrementAndGet();
            seen.add(Arrays.toString(members));
            return cost.cost(members);
        }, o.seed() * 31, o.restarts());
        return seen.size();
    }
}
