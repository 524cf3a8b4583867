package io.headfuse.uptrain.tokenizer;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import java.io.IOException;
import java.nio.file.Path;

/**
 * A {@code tokenizer.json} through DJL's binding of HF tokenizers (Rust). Loaded from the file only (never the
 * hub), with truncation and padding off: perplexity tokenizes whole texts of millions of tokens at once, and
 * DJL would otherwise cut them at its default maximum length.
 */
public final class HfTokenizer implements TextTokenizer {
    private final HuggingFaceTokenizer tokenizer;
    private final int bos;
    private final int eos;
    private final int vocabSize;

    private HfTokenizer(HuggingFaceTokenizer tokenizer, int bos, int eos, int vocabSize) {
        this.tokenizer = tokenizer;
        this.bos = bos;
        this.eos = eos;
        this.vocabSize = vocabSize;
    }

    /**
     * Opens {@code tokenizerJson}. {@code bos} / {@code eos} are the ids of the model's BOS and EOS tokens
     * (from config.json), or -1 to look up {@code <s>} / {@code </s>}; {@code vocabSize} is the model's.
     */
    public static HfTokenizer open(Path tokenizerJson, int bos, int eos, int vocabSize) throws IOException {
        if (System.getProperty("ai.djl.offline") == null) System.setProperty("ai.djl.offline", "true");
        HuggingFaceTokenizer t = HuggingFaceTokenizer.builder()
                .optTokenizerPath(tokenizerJson)
                .optAddSpecialTokens(true)
                .optTruncation(false)
                .optPadding(false)
                .build();
        if (bos < 0) bos = lookup(t, "<s>");
        if (eos < 0) eos = lookup(t, "</s>");
        return new HfTokenizer(t, bos, eos, vocabSize);
    }

    private static int lookup(HuggingFaceTokenizer t, String token) {
        long[] ids = t.encode(token, false, false).getIds();
        return ids.length == 1 ? (int) ids[0] : -1;
    }

    @Override public int[] encode(String text, boolean addBos) {
        Encoding e = tokenizer.encode(text, addBos, false);
        long[] ids = e.getIds();
        int[] out = new int[ids.length];
        for (int i = 0; i < ids.length; i++) out[i] = Math.toIntExact(ids[i]);
        return out;
    }

    @Override public String decode(int[] ids) {
        long[] l = new long[ids.length];
        for (int i = 0; i < ids.length; i++) l[i] = ids[i];
        return tokenizer.decode(l, true);
    }

    @Override public int bosId() { return bos; }

    @Override public int eosId() { return eos; }

    @Override public int vocabSize() { return vocabSize; }

    @Override public void close() { tokenizer.close(); }
}
