package io.headfuse.formats.safetensors;

import com.fasterxml.jackson.databind.JsonNode;
import io.headfuse.formats.Checkpoint;
import io.headfuse.formats.CheckpointException;
import io.headfuse.formats.InputFiles;
import io.headfuse.formats.LlamaConfig;
import io.headfuse.formats.LlamaShapes;
import io.headfuse.formats.TensorSource;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * An HF transformers checkpoint folder: {@code config.json} plus either one {@code model.safetensors} or shards
 * listed by {@code model.safetensors.index.json}. The index is untrusted: shard names must be plain file names
 * in the folder, every shard it names must exist, and every tensor it maps must be in that shard.
 */
public final class HfCheckpoint implements Checkpoint {
    public static final String INDEX = "model.safetensors.index.json";
    public static final String SINGLE = "model.safetensors";
    /** Files carried along into a converted checkpoint when present. */
    public static final List<String> SIDE_FILES = List.of(
            "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "tokenizer.model",
            "generation_config.json", "added_tokens.json", "vocab.json", "merges.txt", "tok512.bin", "tokenizer.bin");

    private final Path dir;
    private final LlamaConfig config;
    private final List<TensorSource> tensors;
    private final List<Path> files;

    private HfCheckpoint(Path dir, LlamaConfig config, List<TensorSource> tensors, List<Path> files) {
        this.dir = dir;
        this.config = config;
        this.tensors = tensors;
        this.files = files;
    }

    public static HfCheckpoint open(Path dir) throws IOException {
        LlamaConfig config = LlamaConfig.read(dir.resolve("config.json"));
        Path index = dir.resolve(INDEX);
        List<TensorSource> tensors = new ArrayList<>();
        List<Path> files = new ArrayList<>();
        if (Files.exists(index)) {
            Map<String, String> weightMap = readIndex(index);
            Set<String> shards = new LinkedHashSet<>(weightMap.values());
            Map<String, String> seen = new HashMap<>();
            for (String shard : shards) {
                Path p = dir.resolve(shard);
                if (!Files.exists(p)) throw new CheckpointException(index, "missing shard " + shard + " named by the index");
                SafetensorsFile f = SafetensorsFile.open(p);
                files.add(p);
                for (TensorSource t : f.tensors()) {
                    String prev = seen.put(t.name(), shard);
                    if (prev != null) throw new CheckpointException(p, "tensor " + t.name() + " is also stored in " + prev);
                    if (!shard.equals(weightMap.get(t.name())))
                        throw new CheckpointException(index, "tensor " + t.name() + " is in " + shard + " but the index maps it to " + weightMap.get(t.name()));
                    tensors.add(t);
                }
            }
            for (var e : weightMap.entrySet())
                if (!seen.containsKey(e.getKey()))
                    throw new CheckpointException(dir.resolve(e.getValue()), "tensor " + e.getKey() + " named by the index is not in this shard");
        } else if (Files.exists(dir.resolve(SINGLE))) {
            SafetensorsFile f = SafetensorsFile.open(dir.resolve(SINGLE));
            files.add(f.file());
            tensors.addAll(f.tensors());
        } else if (Files.exists(dir.resolve("pytorch_model.bin"))) {
            throw new CheckpointException(dir.resolve("pytorch_model.bin"), "pickled HF weights are not supported: save them as safetensors");
        } else {
            throw new CheckpointException(dir, "no " + SINGLE + " or " + INDEX + " beside config.json");
        }
        LlamaShapes.checkStored(dir, config, tensors);
        return new HfCheckpoint(dir, config, List.copyOf(tensors), List.copyOf(files));
    }

    /** The index's weight_map, validated: string values that are plain {@code .safetensors} file names. */
    static Map<String, String> readIndex(Path index) throws IOException {
        JsonNode wm = InputFiles.readJsonObject(index).get("weight_map");
        if (wm == null || !wm.isObject()) throw new CheckpointException(index, "no weight_map object");
        Map<String, String> map = new LinkedHashMap<>();
        for (var it = wm.fields(); it.hasNext(); ) {
            var e = it.next();
            String shard = e.getValue().asText("");
            if (!e.getValue().isTextual() || shard.isEmpty() || shard.contains("/") || shard.contains("\\") || shard.startsWith(".") || !shard.endsWith(".safetensors"))
                throw new CheckpointException(index, "tensor " + e.getKey() + " maps to an invalid shard name " + e.getValue());
            map.put(e.getKey(), shard);
        }
        return map;
    }

    @Override public Path source() { return dir; }
    @Override public String format() { return "hf-safetensors"; }
    @Override public LlamaConfig config() { return config; }
    @Override public List<TensorSource> tensors() { return tensors; }
    @Override public List<Path> files() { return files; }

    @Override
    public List<Path> sideFiles() {
        List<Path> out = new ArrayList<>();
        for (String n : SIDE_FILES) if (Files.isRegularFile(dir.resolve(n))) out.add(dir.resolve(n));
        return out;
    }
}
