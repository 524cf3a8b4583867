package io.headfuse.uptrain.eval;

import io.headfuse.uptrain.tokenizer.TextTokenizer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The token stream an evaluation runs over, and its disjoint windows, in the convention of
 * assets/README.md and tools/hf_ppl.py: the whole text tokenized once (one BOS), optionally sliced from
 * {@code (int)(from * n)} with a BOS put in front, cut to {@code maxTokens}, then windows starting at
 * 0, window, 2*window, ... below n-1; a last window shorter than 2 tokens is dropped.
 *
 * @param ids  the evaluated tokens
 * @param text the text they stand for (for word and byte counts)
 */
public record TokenStream(int[] ids, String text) {
    public TokenStream {
        ids = ids.clone();
    }

    @Override public int[] ids() { return ids.clone(); }

    public int length() { return ids.length; }

    /** Tokenizes {@code text} and applies the options' slice and cap. */
    public static TokenStream of(TextTokenizer tok, String text, EvalOptions o) {
        int[] all = tok.encode(text, true);
        int[] ids = all;
        boolean whole = true;
        if (o.from() > 0) {
            int start = (int) (o.from() * all.length);
            ids = new int[all.length - start + 1];
            ids[0] = tok.bosId();
            System.arraycopy(all, start, ids, 1, all.length - start);
            whole = false;
        }
        if (o.maxTokens() > 0 && ids.length > o.maxTokens()) {
            ids = Arrays.copyOf(ids, (int) o.maxTokens());
            whole = false;
        }
        return new TokenStream(ids, whole ? text : tok.decode(ids));
    }

    /** [start, end) of each window. */
    public List<int[]> windows(int window) {
        List<int[]> out = new ArrayList<>();
        for (int i = 0; i < ids.length - 1; i += window) {
            int end = Math.min(ids.length, i + window);
            if (end - i < 2) break;
            out.add(new int[] {i, end});
        }
        return out;
    }

    /** The ids of a window from {@link #windows(int)}. */
    public int[] slice(int[] range) { return Arrays.copyOfRange(ids, range[0], range[1]); }

    /** Whitespace-separated words of the text. */
    public long words() {
        long n = 0;
        boolean in = false;
        for (int i = 0; i < text.length(); i++) {
            boolean ws = Character.isWhitespace(text.charAt(i));
            if (!ws && !in) n++;
            in = !ws;
        }
        return n;
    }

    /** UTF-8 bytes of the text. */
    public long bytes() { return text.getBytes(java.nio.charset.StandardCharsets.UTF_8).length; }

    /** Tokens the windows predict (window length - 1 each). */
    public long predicted(int window) {
        long n = 0;
        for (int[] w : windows(window)) n += w[1] - w[0] - 1;
        return n;
    }

    /** Tokens the windows feed through the model. */
    public long processed(int window) {
        long n = 0;
        for (int[] w : windows(window)) n += w[1] - w[0];
        return n;
    }
}
