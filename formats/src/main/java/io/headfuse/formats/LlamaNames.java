package io.headfuse.formats;

/** HF transformers' tensor names for a Llama checkpoint: the names every loader maps into. */
public final class LlamaNames {
    public static final String EMBED = "model.embed_tokens.weight";
    public static final String NORM = "model.norm.weight";
    public static final String LM_HEAD = "lm_head.weight";

    private LlamaNames() {}

    public static String layer(int i, String suffix) { return "model.layers." + i + "." + suffix; }
    public static String q(int i) { return layer(i, "self_attn.q_proj.weight"); }
    public static String k(int i) { return layer(i, "self_attn.k_proj.weight"); }
    public static String v(int i) { return layer(i, "self_attn.v_proj.weight"); }
    public static String o(int i) { return layer(i, "self_attn.o_proj.weight"); }
    public static String qBias(int i) { return layer(i, "self_attn.q_proj.bias"); }
    public static String kBias(int i) { return layer(i, "self_attn.k_proj.bias"); }
    public static String vBias(int i) { return layer(i, "self_attn.v_proj.bias"); }
    public static String gate(int i) { return layer(i, "mlp.gate_proj.weight"); }
    public static String up(int i) { return layer(i, "mlp.up_proj.weight"); }
    public static String down(int i) { return layer(i, "mlp.down_proj.weight"); }
    public static String inputNorm(int i) { return layer(i, "input_layernorm.weight"); }
    public static String postNorm(int i) { return layer(i, "post_attention_layernorm.weight"); }

    /** The layer index of a per-layer tensor name, or -1 for the embedding, final norm and head. */
    public static int layerOf(String name) {
        if (!name.startsWith("model.layers.")) return -1;
        int start = "model.layers.".length();
        int end = name.indexOf('.', start);
        try {
            return Integer.parseInt(name.substring(start, end));
        } catch (RuntimeException e) {
            return -1;
        }
    }
}
