package io.headfuse.uptrain.model;

import io.headfuse.formats.LlamaConfig;

/**
 * For every layer, which kv head each query head reads, separately for K and V. Plain MHA is the identity,
 * transformers' GQA and MQA are contiguous groups ({@code h / groupSize}), and headfuse's converted checkpoints
 * may carry arbitrary per-layer maps (config {@code headfuse.k_head_map} / {@code v_head_map}).
 */
public record KvHeadMaps(int numKvHeads, int[][] k, int[][] v) {
    public KvHeadMaps {
        k = deepCopy(k);
        v = deepCopy(v);
        if (k.length != v.length) throw new IllegalArgumentException("K and V maps cover different numbers of layers");
        for (int[][] maps : new int[][][] {k, v})
            for (int[] row : maps)
                for (int h : row)
                    if (h < 0 || h >= numKvHeads)
                        throw new IllegalArgumentException("kv head index " + h + " out of range 0.." + (numKvHeads - 1));
    }

    /** The maps a config implies (its own per-layer maps, or contiguous groups). */
    public static KvHeadMaps of(LlamaConfig c) {
        int[][] k = new int[c.numLayers()][];
        int[][] v = new int[c.numLayers()][];
        for (int l = 0; l < c.numLayers(); l++) {
            k[l] = c.kvHeadMap(l, false);
            v[l] = c.kvHeadMap(l, true);
        }
        return new KvHeadMaps(c.numKvHeads(), k, v);
    }

    public int layers() { return k.length; }

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
