package io.headfuse.formats.meta;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.headfuse.formats.DType;
import io.headfuse.formats.LlamaConfig;

/**
 * The architecture numbers a Meta params.json or a llama2.c header gives, turned into the HF {@code config.json}
 * transformers' converter would write for them, so those checkpoints get a {@link LlamaConfig} like any other.
 * Written in the current transformers style ({@code rope_parameters}, {@code dtype}), which is what a converted
 * output carries: there is no input config whose key style to keep.
 */
public record LlamaArch(int hiddenSize, int intermediateSize, int numHeads, int numKvHeads, int numLayers, int vocabSize,
                        double rmsNormEps, double ropeTheta, int maxPositions, boolean tieWordEmbeddings, DType dtype) {

    public ObjectNode toJson() {
        ObjectNode j = LlamaConfig.JSON.createObjectNode();
        j.putArray("architectures").add("LlamaForCausalLM");
        j.put("model_type", "llama");
        j.put("hidden_size", hiddenSize);
        j.put("intermediate_size", intermediateSize);
        j.put("num_hidden_layers", numLayers);
        j.put("num_attention_heads", numHeads);
        j.put("num_key_value_heads", numKvHeads);
        j.put("head_dim", hiddenSize / numHeads);
        j.put("vocab_size", vocabSize);
        j.put("max_position_embeddings", maxPositions);
        j.put("rms_norm_eps", rmsNormEps);
        ObjectNode rope = j.putObject("rope_parameters");
        rope.put("rope_theta", ropeTheta);
        rope.put("rope_type", "default");
        j.put("hidden_act", "silu");
        j.put("attention_bias", false);
        j.put("mlp_bias", false);
        j.put("tie_word_embeddings", tieWordEmbeddings);
        // Llama 1/2 sentencepiece ids, as the converter writes them.
        j.put("bos_token_id", 1);
        j.put("eos_token_id", 2);
        j.put("dtype", dtype.torchName());
        return j;
    }

    /** The config; IllegalArgumentException (naming the key) when the numbers are inconsistent. */
    public LlamaConfig toConfig() { return LlamaConfig.fromJson(toJson()); }
}
