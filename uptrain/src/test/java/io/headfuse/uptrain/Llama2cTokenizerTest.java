package io.headfuse.uptrain;

import io.headfuse.testkit.Assets;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import io.headfuse.uptrain.tokenizer.Llama2cTokenizer;
import io.headfuse.uptrain.tokenizer.TextTokenizer;
import io.headfuse.uptrain.tokenizer.Tokenizers;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import org.junit.jupiter.api.Test;

class Llama2cTokenizerTest {
    @Test
    void encodesLikeRunC() throws Exception {
        JsonNode ref = Assets.json(Assets.reference("stories260K_reference.json"));
        String text = Files.readString(Assets.text("tinystories/TinyStories-valid-sample30k.txt"), StandardCharsets.UTF_8);
        // The reference read the file in Python text mode, which turns its few CRLFs into LF.
        String input = text.replace("\r\n", "\n").substring(0, 3000);
        try (TextTokenizer tok = Llama2cTokenizer.open(Assets.model("stories260K").resolve("tok512.bin"))) {
            assertEquals(512, tok.vocabSize());
            assertArrayEquals(Assets.ints(ref.get("encode_ids_with_bos")), tok.encode(input, true));
            int[] noBos = tok.encode(input, false);
            assertEquals(ref.get("encode_ids_with_bos").size() - 1, noBos.length);
            assertEquals(input, tok.decode(tok.encode(input, true)));
        }
    }

    @Test
    void bytesFallBackAndRoundTrip() throws Exception {
        try (TextTokenizer tok = Tokenizers.forModel(Assets.model("stories260K-mha-hf"))) {
            String s = "Zoë saw a café — 😀 and said \"hi\".\nThe end.";
            assertEquals(s, tok.decode(tok.encode(s, true)));
            assertArrayEquals(new int[] {1}, tok.encode("", true));
            assertEquals(0, tok.encode("", false).length);
        }
    }
}
