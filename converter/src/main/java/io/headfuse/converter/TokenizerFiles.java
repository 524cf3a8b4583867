package io.headfuse.converter;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.headfuse.formats.LlamaConfig;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;

/**
 * The tokenizer files a conversion carried over, and whether transformers can load a tokenizer from them: a
 * Meta folder's {@code tokenizer.model} (SentencePiece) or an HF {@code tokenizer.json} can; llama2.c's
 * {@code tok512.bin}/{@code tokenizer.bin} cannot (no HF tokenizer exists for them), which headfuse.json says so
 * that a user does not go looking for one.
 *
 * @param files the names of the tokenizer files copied into the output
 */
public record TokenizerFiles(List<String> files) {
    private static final Set<String> HF = Set.of("tokenizer.json", "tokenizer.model");

    public TokenizerFiles {
        files = List.copyOf(files);
    }

    public static TokenizerFiles of(List<Path> sideFiles) {
        return new TokenizerFiles(sideFiles.stream().map(p -> p.getFileName().toString())
                .filter(n -> n.startsWith("tok")).sorted().toList());
    }

    /** True when transformers' AutoTokenizer can load the output folder's tokenizer. */
    public boolean hfLoadable() { return files.stream().anyMatch(HF::contains); }

    public ObjectNode toJson() {
        ObjectNode t = LlamaConfig.JSON.createObjectNode();
        t.set("files", LlamaConfig.JSON.valueToTree(files));
        t.put("hf_tokenizer", hfLoadable());
        if (!hfLoadable())
            t.put("note", files.isEmpty()
                    ? "the input had no tokenizer file: pass the tokenizer separately"
                    : String.join(", ", files) + " is a llama2.c tokenizer: no HF tokenizer exists for it, so transformers loads "
                            + "the weights but not a tokenizer; the headfuse runtime reads it");
        return t;
    }
}
