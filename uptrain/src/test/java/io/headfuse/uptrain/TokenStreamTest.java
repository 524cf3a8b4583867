package io.headfuse.uptrain;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.headfuse.uptrain.eval.EvalOptions;
import io.headfuse.uptrain.eval.TokenStream;
import io.headfuse.uptrain.tokenizer.TextTokenizer;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Windows and slices exactly as tools/hf_ppl.py and assets/README.md define them. */
class TokenStreamTest {
    /** One token per character, BOS = 1. */
    static final TextTokenizer CHARS = new TextTokenizer() {
        @Override public int[] encode(String text, boolean bos) {
            int[] out = new int[text.length() + (bos ? 1 : 0)];
            if (bos) out[0] = 1;
            for (int i = 0; i < text.length(); i++) out[i + (bos ? 1 : 0)] = text.charAt(i);
            return out;
        }
        @Override public String decode(int[] ids) {
            StringBuilder b = new StringBuilder();
            for (int id : ids) if (id > 2) b.append((char) id);
            return b.toString();
        }
        @Override public int bosId() { return 1; }
        @Override public int eosId() { return 2; }
        @Override public int vocabSize() { return 256; }
    };

    @Test
    void windowsLikeHfPpl() {
        // range(0, n-1, w), windows of fewer than 2 tokens dropped
        assertEquals(List.of("0-4", "4-8", "8-10"), ranges(new TokenStream(new int[10], ""), 4));
        assertEquals(List.of("0-4", "4-8"), ranges(new TokenStream(new int[9], ""), 4));
        assertEquals(List.of("0-4", "4-8"), ranges(new TokenStream(new int[8], ""), 4));
        assertEquals(6, new TokenStream(new int[9], "").predicted(4));
        assertEquals(List.of(), ranges(new TokenStream(new int[1], ""), 4));
    }

    @Test
    void validationSliceHasOneBosInFront() {
        String text = "abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwxyz0123";
        TokenStream s = TokenStream.of(CHARS, text, EvalOptions.validation());
        int n = text.length() + 1;
        int start = (int) (0.98 * n);
        int[] expected = new int[n - start + 1];
        expected[0] = 1;
        int[] all = CHARS.encode(text, true);
        System.arraycopy(all, start, expected, 1, n - start);
        assertArrayEquals(expected, s.ids());
        assertEquals(CHARS.decode(expected), s.text());
        TokenStream capped = TokenStream.of(CHARS, "hello world, again", EvalOptions.defaults().withMaxTokens(6));
        assertEquals(6, capped.length());
        assertEquals("hello", capped.text());
        assertEquals(1, capped.words());
        assertEquals(5, capped.bytes());
    }

    private static List<String> ranges(TokenStream s, int w) {
        return s.windows(w).stream().map(r -> r[0] + "-" + r[1]).toList();
    }
}
