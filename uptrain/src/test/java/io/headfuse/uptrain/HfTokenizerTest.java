package io.headfuse.uptrain;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.headfuse.uptrain.tokenizer.HfTokenizer;
import io.headfuse.uptrain.tokenizer.TextTokenizer;
import org.junit.jupiter.api.Test;

class HfTokenizerTest {
    @Test
    void oneBosAndRoundTrip() {
        TextTokenizer tok = SharedModels.tokenizer("headfuse-mha-s");
        assertInstanceOf(HfTokenizer.class, tok);
        assertEquals(1, tok.bosId());
        assertEquals(2, tok.eosId());
        String s = "Fellow-Citizens of the Senate and House of Representatives: café 😀\n";
        int[] with = tok.encode(s, true);
        int[] without = tok.encode(s, false);
        assertEquals(1, with[0]);
        assertEquals(without.length + 1, with.length);
        assertEquals(s, tok.decode(with));
        // No truncation: a long text keeps every token.
        String longText = "word ".repeat(20_000);
        int[] ids = tok.encode(longText, true);
        assertEquals(tok.encode(longText, false).length + 1, ids.length);
        assertTrue(ids.length >= 20_000, "tokens " + ids.length);
    }
}
