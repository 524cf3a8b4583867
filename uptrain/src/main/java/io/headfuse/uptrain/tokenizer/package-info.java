/**
 * Tokenizers behind one interface, {@link io.headfuse.uptrain.tokenizer.TextTokenizer}: HF {@code tokenizer.json}
 * through DJL, and llama2.c's {@code tokenizer.bin} / {@code tok512.bin}.
 * {@link io.headfuse.uptrain.tokenizer.Tokenizers#forModel} picks the one a model folder ships.
 */
package io.headfuse.uptrain.tokenizer;
