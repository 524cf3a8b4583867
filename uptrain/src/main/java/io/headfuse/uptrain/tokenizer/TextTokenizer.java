package io.headfuse.uptrain.tokenizer;

/** Text to token ids and back, for whichever tokenizer a model ships with. */
public interface TextTokenizer extends AutoCloseable {
    /**
     * Encodes {@code text}. With {@code bos}, the result starts as the model's training data did: one BOS
     * (for HF tokenizers: the special tokens tokenizer.json's post-processor adds); without, just the text.
     */
    int[] encode(String text, boolean bos);

    /** {@code encode(text, true)}. */
    default int[] encode(String text) { return encode(text, true); }

    /** The text of {@code ids}, special tokens (BOS, EOS) left out. */
    String decode(int[] ids);

    int bosId();

    int eosId();

    int vocabSize();

    @Override default void close() {}
}
