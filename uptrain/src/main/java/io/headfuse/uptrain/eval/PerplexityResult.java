package io.headfuse.uptrain.eval;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A perplexity measurement.
 *
 * @param totalNll       summed negative log-likelihood (nats) of all predicted tokens
 * @param tokens         predicted tokens (window length - 1 per window)
 * @param words          whitespace-separated words of the evaluated text
 * @param bytes          UTF-8 bytes of the evaluated text
 * @param processed      tokens fed through the model (for throughput)
 * @param seconds        model time (tokenization excluded)
 */
public record PerplexityResult(double totalNll, long tokens, long words, long bytes, long processed, double seconds) {
    /** Mean NLL per predicted token. */
    public double nll() { return totalNll / tokens; }

    public double ppl() { return Math.exp(nll()); }

    /** exp(total NLL / words): comparable across tokenizers. */
    public double wordPpl() { return Math.exp(totalNll / words); }

    /** exp(total NLL / bytes). */
    public double bytePpl() { return Math.exp(totalNll / bytes); }

    /** Tokens through the model per second. */
    public double tokensPerSecond() { return processed / seconds; }

    /** The pooled measurement of several texts (NLL summed, not perplexities averaged). */
    public static PerplexityResult combine(List<PerplexityResult> parts) {
        double nll = 0, s = 0;
        long t = 0, w = 0, b = 0, p = 0;
        for (PerplexityResult r : parts) {
            nll += r.totalNll;
            t += r.tokens;
            w += r.words;
            b += r.bytes;
            p += r.processed;
            s += r.seconds;
        }
        return new PerplexityResult(nll, t, w, b, p, s);
    }

    /** The fields of {@code eval --json}, in order. */
    public Map<String, Object> toJson() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("ppl", ppl());
        m.put("nll", nll());
        m.put("tokens", tokens);
        m.put("word_ppl", wordPpl());
        m.put("byte_ppl", bytePpl());
        m.put("tokens_per_s", tokensPerSecond());
        return m;
    }

    @Override public String toString() {
        return String.format(java.util.Locale.ROOT, "ppl %.4f (nll %.5f over %d tokens), word ppl %.3f, byte ppl %.5f, %.0f tokens/s",
                ppl(), nll(), tokens, wordPpl(), bytePpl(), tokensPerSecond());
    }
}
