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
 * statistics and of pricing one group, how many groups the swap search prices, and the projected whole
 * conversion (32 layers, K and V) on N cores. Weights are bf16-rounded N(0, 0.02^2) values drawn independently
 * for every entry, so heads differ as a real model's do (alignment and pooling do real work); --identical makes
 * them as SyntheticCheckpoint does (a 1 MiB block repeated, every head the same). The input moment is a random
 * full-rank one (B B^T / 512 + 0.1 I, B hidden x 512 Gaussian) with a small mean.
 *
 * usage: java -cp <fusion classpath> bench/Linalg7B.java [hidden heads kv] [--cores N] [--restarts R] [--identical]
 *        (HEADFUSE_LINALG picks the backend; --cores: the machine projected to, default 16)
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

        public double[] polar(double[] m, int n) {
            long t = System.nanoTime();
            double[] out = inner.polar(m, n);
            note("polar", n + "x" + n, System.nanoTime() - t);
            return out;
        }

        synchronized void print(String title) {
            System.out.println(title);
            calls.forEach((k, v) -> System.out.printf("  %-10s %-24s %7d calls %9.3f s (%.2f ms each)%n", k.op(), k.shape(), v[0], v[1] / 1e9, v[1] / 1e6 / v[0]));
            calls.clear();
        }
    }

    public static void main(String[] args) {
        java.util.List<String> a = new java.util.ArrayList<>();
        int cores = 16, restarts = 0;
        boolean identical = false;
        for (int i = 0; i < args.length; i++)
            switch (args[i]) {
                case "--cores" -> cores = Integer.parseInt(args[++i]);
                case "--restarts" -> restarts = Integer.parseInt(args[++i]);
                case "--identical" -> identical = true;
                default -> a.add(args[i]);
            }
        int hidden = a.size() > 0 ? Integer.parseInt(a.get(0)) : 4096, heads = a.size() > 1 ? Integer.parseInt(a.get(1)) : 32;
        int kv = a.size() > 2 ? Integer.parseInt(a.get(2)) : 8, d = hidden / heads;
        Counting counting = new Counting(Linalg.backend());
        Linalg.install(counting);
        Random rnd = new Random(42);
        float[][] proj = new float[4][];
        if (identical) {
            // SyntheticCheckpoint's values: one 1 MiB block of bf16, repeated through every tensor.
            float[] block = new float[1 << 19];
            for (int i = 0; i < block.length; i++) block[i] = Floats.bf16ToFloat(Floats.floatToBf16((float) (rnd.nextGaussian() * 0.02)));
            float[] wt = new float[hidden * hidden];
            for (int i = 0; i < wt.length; i++) wt[i] = block[i % block.length];
            Arrays.fill(proj, wt);
        } else {
            for (int t = 0; t < 4; t++) {
                proj[t] = new float[hidden * hidden];
                for (int i = 0; i < proj[t].length; i++) proj[t][i] = Floats.bf16ToFloat(Floats.floatToBf16((float) (rnd.nextGaussian() * 0.02)));
            }
        }
        LayerWeights w = new LayerWeights(proj[0], proj[1], proj[2], proj[3], hidden, heads, d);
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
        int here = Runtime.getRuntime().availableProcessors();
        System.out.printf("backend %s, %d cores; hidden %d, %d heads of %d, kv %d; %s heads%n", counting.name(), here, hidden, heads, d, kv, identical ? "identical" : "distinct (random)");

        long t0 = System.nanoTime();
        HeadStats[] s = HeadStats.of(w, m, cov);
        double statsSeconds = (System.nanoTime() - t0) / 1e9;
        counting.print(String.format("HeadStats.of: %.1f s (once per layer: apply reuses plan's)", statsSeconds));

        AsymOptions o = AsymStrategy.Settings.defaults().options(kv);
        if (restarts > 0) o = o.withRestarts(restarts);
        GroupFit.Method method = o.method();
        int[] members = new int[heads / kv];
        for (int i = 0; i < members.length; i++) members[i] = i * kv;
        GroupFit.fit(s[0], members, method); // warm-up
        GroupFit.fit(s[1], members, method);
        counting.calls.clear();
        int reps = 10; // K alone is ~0.02 s: fewer repetitions left it at the mercy of a compilation or a GC pause
        double[] kindSeconds = new double[2];
        for (int i = 0; i < reps; i++)
            for (int k = 0; k < 2; k++) {
                long t = System.nanoTime();
                GroupFit.fit(s[k], members, method);
                kindSeconds[k] += (System.nanoTime() - t) / 1e9 / reps;
            }
        double groupSeconds = kindSeconds[0] + kindSeconds[1];
        counting.print(String.format("pricing one group of %d (K and V, %s): %.3f s (K %.3f, V %.3f), single thread (%d repetitions)",
                members.length, o.describe(), groupSeconds, kindSeconds[0], kindSeconds[1], reps));
        // V's first alignment per head pair is computed once a layer (the warm-up above primed this group's pairs).
        long t1 = System.nanoTime();
        for (int j = 1; j <= 4; j++) Linalg.polar(s[1].moment()[0][j], d);
        double pairSeconds = heads * (heads - 1) / 2 * (System.nanoTime() - t1) / 1e9 / 4;
        counting.calls.clear();
        System.out.printf("V's first polar factor of all %d head pairs: %.1f s a layer, single thread%n", heads * (heads - 1) / 2, pairSeconds);

        // How many distinct groups the swap search prices: identical heads (this checkpoint: every swap is a tie, so
        // each start is one pass), and a cost with real descents (random pairwise dissimilarity).
        long same = searched(heads, kv, m2 -> 1.0, o);
        double[][] sim = new double[heads][heads];
        for (int i = 0; i < heads; i++) for (int j = 0; j < heads; j++) sim[i][j] = sim[j][i] = i == j ? 1 : r.nextDouble();
        long real = searched(heads, kv, GroupCost.dissimilarity(sim), o);
        System.out.printf("groups priced per layer (restarts %d): %d with identical heads, %d with a random cost%n", o.restarts(), same, real);
        // Projection: the statistics run once per layer (apply reuses plan's) on every core (measured here on
        // `here` cores, scaled linearly); the search prices its groups and the pairs' polar factors on every core
        // (measured single-threaded, divided by the cores). Apply's 2 x kv group fits are left out (16 of thousands).
        for (long groups : new long[] {same, real})
            for (int n : new int[] {here, cores}) {
                double stats = 32 * statsSeconds * here / n, search = 32 * (groups * groupSeconds + pairSeconds) / n;
                System.out.printf("projected, 32 layers, %5d groups a layer, %2d cores: %6.0f s (stats %.0f s + search %.0f s; %.1f s a layer)%n",
                        groups, n, stats + search, stats, search, (stats + search) / 32);
            }
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
