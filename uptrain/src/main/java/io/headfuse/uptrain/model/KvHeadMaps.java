package io.headfuse.uptrain.model;

import io.headfuse.formats.LlamaConfig;

/**
 * For every layer, which kv head each query head reads, separately for K and V, and how many K and V heads the
 * layer stores. Plain MHA is the identity, transformers' GQA and MQA are contiguous groups
 * ({@code h / groupSize}), headfuse's converted checkpoints may carry arbitrary per-layer maps (config
 * {@code headfuse.k_head_map} / {@code v_head_map}), and DHA checkpoints per-layer head counts as well
 * ({@code headfuse.k_heads} / {@code v_heads}).
 */
public record KvHeadMaps(int[] kHeads, int[] vHeads, int[][] k, int[][] v) {
    public KvHeadMaps {
        kHeads = kHeads.clone();
        vHeads = vHeads.clone();
        k = deepCopy(k);
        v = deepCopy(v);
        if (k.length != v.length || kHeads.length != k.length || vHeads.length != v.length)
            throw new IllegalArgumentException("K and V maps and counts cover different numbers of layers");
        for (int l = 0; l < k.length; l++) {
            check(k[l], kHeads[l], l, "K");
            check(v[l], vHeads[l], l, "V");
        }
    }

    private static void check(int[] row, int count, int layer, String kind) {
        for (int h : row)
            if (h < 0 || h >= count)
                throw new IllegalArgumentException(kind + " head index " + h + " of layer " + layer + " out of range 0.." + (count - 1));
    }

    /** The maps a config implies (its own per-layer maps, or contiguous groups). */
    public static KvHeadMaps of(LlamaConfig c) {
        int n = c.numLayers();
        int[][] k = new int[n][];
        int[][] v = new int[n][];
        int[] kc = new int[n], vc = new int[n];
        for (int l = 0; l < n; l++) {
            k[l] = c.kvHeadMap(l, false);
            v[l] = c.kvHeadMap(l, true);
            kc[l] = c.kvHeads(l, false);
            vc[l] = c.kvHeads(l, true);
        }
        return new KvHeadMaps(kc, vc, k, v);
    }

    public int layers() { return k.length; }

    /** K heads stored by {@code layer} (rows of its k_proj / head_dim). */
    public int kHeads(int layer) { return kHeads[layer]; }

    /** V heads stored by {@code layer}. */
    public int vHeads(int layer) { return vHeads[layer]; }

    @Override public int[] kHeads() { return kHeads.clone(); }

    @Override public int[] vHeads() { return vHeads.clone(); }

    public int[] k(int layer) { return k[layer].clone(); }

    public int[] v(int layer) { return v[layer].clone(); }

    @Override public int[][] k() { return deepCopy(k); }

    @Override public int[][] v() { return deepCopy(v); }

    /** True when query head h reads kv head h (MHA): the gather can be skipped. */
    static boolean isIdentity(int[] map, int numKvHeads) {
        if (map.length != numKvHeads) return false;
        for (int h = 0; h < map.length; h++) if (map[h] != h) return false;
        return true;
    }

    /** True when query head h reads kv head h / (heads / kvHeads): transformers' GQA / MQA grouping. */
    static boolean isContiguous(int[] map, int numKvHeads) {
        if (map.length % numKvHeads != 0) return false;
        int group = map.length / numKvHeads;
        for (int h = 0; h < map.length; h++) if (map[h] != h / group) return false;
        return true;
    }

    private static int[][] deepCopy(int[][] a) {
        int[][] out = new int[a.length][];
        for (int i = 0; i < a.length; i++) out[i] = a[i].clone();
        return out;
    }
}
