package io.headfuse.uptrain.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

/** Finds the tokenizer that ships with a model. */
public final class Tokenizers {
    private static final ObjectMapper JSON = new ObjectMapper();

    private Tokenizers() {}

    /**
     * The tokenizer of the model at {@code model} (a folder, or a llama2.c {@code .bin} file whose folder is
     * searched): {@code tokenizer.json} if present (BOS/EOS ids from config.json or generation_config.json),
     * else a llama2.c {@code tokenizer.bin} or {@code tok*.bin}.
     */
    public static TextTokenizer forModel(Path model) throws IOException {
        Path dir = Files.isRegularFile(model) ? model.toAbsolutePath().getParent() : model;
        if (!Files.isDirectory(dir)) throw new NoSuchFileException(model + ": no such file or folder");
        Path json = dir.resolve("tokenizer.json");
        if (Files.isRegularFile(json)) {
            int vocab = intKey(dir, "vocab_size", -1);
            return HfTokenizer.open(json, intKey(dir, "bos_token_id", -1), intKey(dir, "eos_token_id", -1), vocab);
        }
        Path bin = llama2cFile(dir);
        if (bin != null) return Llama2cTokenizer.open(bin);
        throw new IOException(dir + ": no tokenizer found (expected tokenizer.json, tokenizer.bin or tok*.bin)");
    }

    private static Path llama2cFile(Path dir) throws IOException {
        if (Files.isRegularFile(dir.resolve("tokenizer.bin"))) return dir.resolve("tokenizer.bin");
        try (Stream<Path> files = Files.list(dir)) {
            List<Path> toks = files.filter(p -> {
                String n = p.getFileName().toString();
                return n.startsWith("tok") && n.endsWith(".bin") && Files.isRegularFile(p);
            }).sorted().toList();
            return toks.isEmpty() ? null : toks.get(0);
        }
    }

    /** An integer from config.json, else generation_config.json (the first entry when it is a list), else dflt. */
    private static int intKey(Path dir, String key, int dflt) throws IOException {
        for (String f : new String[] {"config.json", "generation_config.json"}) {
            Path p = dir.resolve(f);
            if (!Files.isRegularFile(p)) continue;
            JsonNode v = JSON.readTree(p.toFile()).get(key);
            if (v != null && v.isArray() && !v.isEmpty()) v = v.get(0);
            if (v != null && v.canConvertToInt()) return v.asInt();
        }
        return dflt;
    }
}
