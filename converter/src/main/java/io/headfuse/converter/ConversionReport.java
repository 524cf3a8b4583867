package io.headfuse.converter;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.headfuse.formats.DType;
import io.headfuse.formats.LlamaConfig;
import io.headfuse.fusion.FusionPlan;
import io.headfuse.fusion.LayerPlan;
import java.nio.file.Path;

/**
 * What a conversion did, written as {@code headfuse.json} beside the converted weights and returned to library
 * callers: the strategy, the groups of every layer, and the KV-cache bytes per token before and after.
 */
public record ConversionReport(Path input, String inputFormat, Path output, FusionPlan plan, int kvHeadsBefore, int kvHeadsAfter,
                               DType dtypeBefore, DType dtypeAfter, long kvBytesPerTokenBefore, long kvBytesPerTokenAfter,
                               int shards, boolean hfCompatible, TokenizerFiles tokenizer, double wallSeconds) {
    public static final String FILE = "headfuse.json";
    public static final String VERSION = "0.1.0";

    /** The same report with its wall time set (known only once everything else is written). */
    public ConversionReport withWallSeconds(double seconds) {
        return new ConversionReport(input, inputFormat, output, plan, kvHeadsBefore, kvHeadsAfter, dtypeBefore, dtypeAfter,
                kvBytesPerTokenBefore, kvBytesPerTokenAfter, shards, hfCompatible, tokenizer, seconds);
    }

    public double kvReduction() { return (double) kvBytesPerTokenBefore / kvBytesPerTokenAfter; }

    public ObjectNode toJson() {
        ObjectNode root = LlamaConfig.JSON.createObjectNode();
        root.put("headfuse_version", VERSION);
        root.put("strategy", plan.strategy());
        ObjectNode in = root.putObject("input");
        in.put("path", input.toString());
        in.put("format", inputFormat);
        in.put("kv_heads", kvHeadsBefore);
        in.put("dtype", dtypeBefore.name().toLowerCase());
        ObjectNode out = root.putObject("output");
        out.put("path", output.toString());
        out.put("kv_heads", kvHeadsAfter);
        out.put("dtype", dtypeAfter.name().toLowerCase());
        out.put("shards", shards);
        out.put("coupled", plan.coupled());
        out.put("hf_compatible", hfCompatible);
        if (!hfCompatible && plan.details().get("hf_note") instanceof String why) out.put("note", why);
        else if (!hfCompatible)
            out.put("note", "K and V heads are grouped differently: config.json carries headfuse.k_head_map/v_head_map, "
                    + "which the headfuse runtime loads; plain transformers would ignore them (convert without --decoupled or --grouping ward for an HF-loadable checkpoint)");
        out.set("tokenizer", tokenizer.toJson());
        ObjectNode kv = root.putObject("kv_bytes_per_token");
        kv.put("before", kvBytesPerTokenBefore);
        kv.put("after", kvBytesPerTokenAfter);
        kv.put("reduction", kvReduction());
        ArrayNode groups = root.putArray("groups");
        for (LayerPlan lp : plan.layers()) {
            ObjectNode l = groups.addObject();
            l.put("layer", lp.layer());
            l.set("k", LlamaConfig.JSON.valueToTree(lp.kGroups()));
            l.set("v", LlamaConfig.JSON.valueToTree(lp.vGroups()));
            if (lp.seconds() > 0) l.put("seconds", lp.seconds());
        }
        if (!plan.details().isEmpty()) root.set("details", LlamaConfig.JSON.valueToTree(FiniteJson.of(new java.util.TreeMap<>(plan.details()))));
        root.put("wall_seconds", wallSeconds);
        return root;
    }

    public String toJsonString() {
        try {
            return LlamaConfig.JSON.writerWithDefaultPrettyPrinter().writeValueAsString(toJson()) + "\n";
        } catch (java.io.IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /** A short human summary for the CLI. */
    public String summary() {
        return String.format("%s -> %s%nstrategy %s: %d -> %d kv heads; KV cache %s -> %s per token (%.1fx smaller); %d shard(s), %.1f s%s",
                input, output, plan.strategy(), kvHeadsBefore, kvHeadsAfter, Units.bytes(kvBytesPerTokenBefore),
                Units.bytes(kvBytesPerTokenAfter), kvReduction(), shards, wallSeconds,
                hfCompatible ? "" : plan.details().containsKey("hf_note")
                        ? "\nnote: per-layer K/V head counts: loads in headfuse, not in plain transformers (use --uniform)"
                        : "\nnote: K/V grouped differently per layer: loads in headfuse, not in plain transformers (convert without --decoupled for that)");
    }

}
