package io.headfuse.formats;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Path;

/**
 * The architecture of a Llama checkpoint, read from (and written back to) an HF {@code config.json}.
 * The parsed JSON is kept whole, so keys headfuse does not know survive a round trip untouched; the
 * {@code with*} methods change only the keys they name.
 *
 * <p>Per-layer kv head maps ({@code headfuse.k_head_map} / {@code headfuse.v_head_map}, one array of query-head
 * to kv-head indices per layer) are headfuse's extension for checkpoints whose K and V heads group differently;
 * without them query head {@code h} reads kv head {@code h / (heads / kvHeads)}, as in transformers.
 *
 * <p>Per-layer head counts ({@code headfuse.k_heads} / {@code headfuse.v_heads}, one count per layer, DHA) say
 * how many K and V heads each layer stores: k_proj of layer l then has {@code k_heads[l] * head_dim} rows, and the
 * layer's maps index those heads. They need the maps beside them; {@code num_key_value_heads} then holds the
 * nominal average (the uniform GQA layout with the same KV bytes), which nothing reads shapes from.
 */
public record LlamaConfig(
        int hiddenSize, int numHeads, int numKvHeads, int headDim, int numLayers, int intermediateSize,
        int vocabSize, double rmsNormEps, double ropeTheta, boolean tieWordEmbeddings, DType dtype,
        int maxPositions, boolean attentionBias, ObjectNode json) {

    public static final ObjectMapper JSON = new ObjectMapper();
    public static final String HEADFUSE_KEY = "headfuse";

    public LlamaConfig {
        json = json.deepCopy();
    }

    @Override public ObjectNode json() { return json.deepCopy(); }

    /** Reads and validates {@code config.json}. */
    public static LlamaConfig read(Path file) throws IOException {
        ObjectNode obj = InputFiles.readJsonObject(file);
        try {
            return fromJson(obj);
        } catch (IllegalArgumentException e) {
            throw new CheckpointException(file, e.getMessage());
        }
    }


    /** Builds a config from HF JSON; throws IllegalArgumentException naming the key at fault. */
    public static LlamaConfig fromJson(ObjectNode obj) {
        int hidden = positive(obj, "hidden_size");
        int heads = positive(obj, "num_attention_heads");
        int kv = obj.hasNonNull("num_key_value_heads") ? positive(obj, "num_key_value_heads") : heads;
        int headDim = obj.hasNonNull("head_dim") ? positive(obj, "head_dim") : hidden / heads;
        if (!obj.hasNonNull("head_dim") && hidden % heads != 0)
            throw new IllegalArgumentException("hidden_size " + hidden + " is not a multiple of num_attention_heads " + heads);
        if (heads % kv != 0)
            throw new IllegalArgumentException("num_key_value_heads " + kv + " does not divide num_attention_heads " + heads);
        if (headDim % 2 != 0) throw new IllegalArgumentException("head_dim " + headDim + " is odd: RoPE needs pairs");
        int layers = positive(obj, "num_hidden_layers");
        int inter = positive(obj, "intermediate_size");
        int vocab = positive(obj, "vocab_size");
        double eps = positiveNumber(obj, "rms_norm_eps", 1e-6);
        if (obj.hasNonNull("rope_parameters") && !obj.get("rope_parameters").isObject())
            throw new IllegalArgumentException("'rope_parameters' must be a JSON object, got " + obj.get("rope_parameters"));
        double theta = positiveNumber(obj, "rope_theta", 10000.0); // checked even where rope_parameters overrides it
        if (obj.path("rope_parameters").hasNonNull("rope_theta")) theta = positiveNumber((ObjectNode) obj.get("rope_parameters"), "rope_theta", theta);
        for (String key : new String[] {"rope_scaling", HEADFUSE_KEY})
            if (obj.hasNonNull(key) && !obj.get(key).isObject())
                throw new IllegalArgumentException("'" + key + "' must be a JSON object or null, got " + obj.get(key));
        String ropeType = obj.path("rope_parameters").path("rope_type").asText("default");
        if (obj.path("rope_scaling").isObject()) ropeType = obj.path("rope_scaling").path("rope_type").asText(obj.path("rope_scaling").path("type").asText("default"));
        if (!ropeType.equals("default"))
            throw new IllegalArgumentException("rope type '" + ropeType + "' is not supported (only default RoPE)");
        boolean tied = bool(obj, "tie_word_embeddings");
        DType dtype = null;
        for (String key : new String[] {"torch_dtype", "dtype"}) { // transformers 5 writes dtype, which wins
            JsonNode n = obj.get(key);
            if (n == null || n.isNull()) continue;
            if (!n.isTextual() || DType.ofTorchName(n.asText()) == null)
                throw new IllegalArgumentException("'" + key + "' must name a torch dtype such as \"bfloat16\", got " + n);
            dtype = DType.ofTorchName(n.asText());
        }
        int maxPos = obj.hasNonNull("max_position_embeddings") ? positive(obj, "max_position_embeddings") : 2048;
        boolean bias = bool(obj, "attention_bias");
        String act = obj.path("hidden_act").asText("silu");
        if (!act.equals("silu")) throw new IllegalArgumentException("hidden_act '" + act + "' is not supported (Llama uses silu)");
        LlamaConfig c = new LlamaConfig(hidden, heads, kv, headDim, layers, inter, vocab, eps, theta, tied, dtype, maxPos, bias, obj);
        c.validateHeadMaps();
        return c;
    }

    private static int positive(ObjectNode obj, String key) {
        JsonNode n = obj.get(key);
        if (n == null || n.isNull()) throw new IllegalArgumentException("missing key '" + key + "'");
        if (!n.canConvertToInt() || !n.isIntegralNumber() || n.asInt() <= 0)
            throw new IllegalArgumentException("'" + key + "' must be a positive integer, got " + n);
        return n.asInt();
    }

    /** A finite number above zero, or {@code dflt} when the key is absent: "abc", [1], 0 or -1 are errors, not defaults. */
    private static double positiveNumber(ObjectNode obj, String key, double dflt) {
        JsonNode n = obj.get(key);
        if (n == null || n.isNull()) return dflt;
        if (!n.isNumber() || !Double.isFinite(n.asDouble()) || n.asDouble() <= 0)
            throw new IllegalArgumentException("'" + key + "' must be a positive number, got " + n);
        return n.asDouble();
    }

    /** true or false, false when absent; "yes" or 1 are errors rather than silently false. */
    private static boolean bool(ObjectNode obj, String key) {
        JsonNode n = obj.get(key);
        if (n == null || n.isNull()) return false;
        if (!n.isBoolean()) throw new IllegalArgumentException("'" + key + "' must be true or false, got " + n);
        return n.asBoolean();
    }

    /** Query heads per kv head. */
    public int groupSize() { return numHeads / numKvHeads; }

    /** Bytes of K and V cache per token over all layers at {@code dtype} (per-layer counts summed when present). */
    public long kvBytesPerToken(DType type) {
        long heads = 0;
        for (int l = 0; l < numLayers; l++) heads += kvHeads(l, false) + kvHeads(l, true);
        return heads * headDim * type.size();
    }

    /** K ({@code value == false}) or V heads stored by {@code layer}: headfuse's per-layer count, else num_key_value_heads. */
    public int kvHeads(int layer, boolean value) {
        JsonNode counts = json.path(HEADFUSE_KEY).path(value ? "v_heads" : "k_heads");
        return counts.isArray() ? counts.get(layer).asInt() : numKvHeads;
    }

    /** True when layers store different numbers of K or V heads (DHA): k_proj/v_proj shapes vary by layer. */
    public boolean hasPerLayerHeads() { return json.path(HEADFUSE_KEY).has("k_heads"); }

    /**
     * For each query head of {@code layer}, the kv head it reads for K ({@code value == false}) or V.
     * Contiguous groups unless the config carries headfuse's per-layer maps.
     */
    public int[] kvHeadMap(int layer, boolean value) {
        JsonNode maps = json.path(HEADFUSE_KEY).path(value ? "v_head_map" : "k_head_map");
        int[] map = new int[numHeads];
        if (maps.isArray()) {
            JsonNode row = maps.get(layer);
            for (int h = 0; h < numHeads; h++) map[h] = row.get(h).asInt();
        } else {
            for (int h = 0; h < numHeads; h++) map[h] = h / groupSize();
        }
        return map;
    }

    /** True when the config carries per-layer K/V head maps (not loadable by plain transformers). */
    public boolean hasHeadMaps() { return json.path(HEADFUSE_KEY).has("k_head_map"); }

    private void validateHeadMaps() {
        JsonNode ext = json.path(HEADFUSE_KEY);
        if (ext.has("k_heads") != ext.has("v_heads"))
            throw new IllegalArgumentException("headfuse.k_heads and headfuse.v_heads must be given together");
        if (ext.has("k_heads") && !(ext.has("k_head_map") && ext.has("v_head_map")))
            throw new IllegalArgumentException("headfuse.k_heads/v_heads need headfuse.k_head_map and v_head_map beside them");
        for (String key : new String[] {"k_heads", "v_heads"}) {
            JsonNode counts = ext.path(key);
            if (counts.isMissingNode()) continue;
            if (!counts.isArray() || counts.size() != numLayers)
                throw new IllegalArgumentException("headfuse." + key + " must hold one count per layer (" + numLayers + ")");
            for (JsonNode v : counts)
                if (!v.isIntegralNumber() || v.asInt() < 1 || v.asInt() > numHeads)
                    throw new IllegalArgumentException("headfuse." + key + " entry " + v + " is not a head count in [1, " + numHeads + "]");
        }
        for (String key : new String[] {"k_head_map", "v_head_map"}) {
            JsonNode maps = ext.path(key);
            if (maps.isMissingNode()) continue;
            if (!maps.isArray() || maps.size() != numLayers)
                throw new IllegalArgumentException("headfuse." + key + " must hold one array per layer (" + numLayers + ")");
            boolean value = key.startsWith("v");
            for (int l = 0; l < numLayers; l++) {
                JsonNode row = maps.get(l);
                if (!row.isArray() || row.size() != numHeads)
                    throw new IllegalArgumentException("headfuse." + key + " rows must have one entry per query head (" + numHeads + ")");
                int count = kvHeads(l, value);
                for (JsonNode v : row)
                    if (!v.canConvertToInt() || v.asInt() < 0 || v.asInt() >= count)
                        throw new IllegalArgumentException("headfuse." + key + " entry " + v + " of layer " + l + " is not a kv head index below " + count);
            }
        }
    }

    /** A copy with {@code num_key_value_heads} set and any head maps removed. */
    public LlamaConfig withKvHeads(int kv) {
        ObjectNode j = json.deepCopy();
        j.put("num_key_value_heads", kv);
        if (j.path(HEADFUSE_KEY).isObject()) {
            ((ObjectNode) j.get(HEADFUSE_KEY)).remove(java.util.List.of("k_head_map", "v_head_map", "k_heads", "v_heads"));
            if (j.get(HEADFUSE_KEY).isEmpty()) j.remove(HEADFUSE_KEY);
        }
        return fromJson(j);
    }

    /** A copy whose layers read K and V through the given maps ([layer][query head] -> kv head). */
    public LlamaConfig withHeadMaps(int[][] kMap, int[][] vMap) {
        ObjectNode j = json.deepCopy();
        ObjectNode ext = j.path(HEADFUSE_KEY).isObject() ? (ObjectNode) j.get(HEADFUSE_KEY) : j.putObject(HEADFUSE_KEY);
        ext.set("k_head_map", toJson(kMap));
        ext.set("v_head_map", toJson(vMap));
        return fromJson(j);
    }

    /**
     * A copy whose layers store their own numbers of K and V heads ({@code kHeads[l]}, {@code vHeads[l]}) read
     * through the given maps; {@code num_key_value_heads} becomes {@code nominalKv} (the uniform layout with the
     * same KV bytes, for readers that want one number).
     */
    public LlamaConfig withPerLayerHeads(int nominalKv, int[] kHeads, int[] vHeads, int[][] kMap, int[][] vMap) {
        ObjectNode j = withKvHeads(nominalKv).json();
        ObjectNode ext = j.path(HEADFUSE_KEY).isObject() ? (ObjectNode) j.get(HEADFUSE_KEY) : j.putObject(HEADFUSE_KEY);
        ext.set("k_heads", JSON.valueToTree(kHeads));
        ext.set("v_heads", JSON.valueToTree(vHeads));
        ext.set("k_head_map", toJson(kMap));
        ext.set("v_head_map", toJson(vMap));
        return fromJson(j);
    }

    private static ArrayNode toJson(int[][] maps) {
        ArrayNode arr = JSON.createArrayNode();
        for (int[] row : maps) {
            ArrayNode r = arr.addArray();
            for (int v : row) r.add(v);
        }
        return arr;
    }

    /** A copy whose stored dtype is {@code type}, written in the key style the input used. */
    public LlamaConfig withDtype(DType type) {
        ObjectNode j = json.deepCopy();
        if (j.has("dtype") || !j.has("torch_dtype")) j.put("dtype", type.torchName());
        if (j.has("torch_dtype")) j.put("torch_dtype", type.torchName());
        return fromJson(j);
    }

    /** Pretty-printed JSON, as transformers writes it. */
    public String toJsonString() {
        try {
            return JSON.writerWithDefaultPrettyPrinter().writeValueAsString(json) + "\n";
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }
}
