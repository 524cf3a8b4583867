package io.headfuse.uptrain.eval;

import java.io.IOException;
import java.io.InputStreamReader;
import java.io.Reader;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/**
 * Reads a text file the way Python's text mode does ({@code open(f, encoding="utf-8")}, universal newlines), so
 * that headfuse tokenizes exactly what transformers, lm-eval and tools/hf_ppl.py tokenize: UTF-8, and every
 * {@code \r\n} and lone {@code \r} becomes {@code \n}. Malformed bytes become U+FFFD rather than failing. The
 * file is decoded through a fixed buffer, so a {@code \r\n} split across two reads is still one newline and no
 * copy of the raw bytes is held next to the text.
 */
final class TextFile {
    private static final int BUFFER = 1 << 16;

    private TextFile() {}

    static String read(Path file) throws IOException {
        if (!Files.isRegularFile(file)) throw new NoSuchFileException(file.toString(), null, "no such file");
        var decoder = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPLACE).onUnmappableCharacter(CodingErrorAction.REPLACE);
        long size = Files.size(file);
        StringBuilder out = new StringBuilder((int) Math.min(Integer.MAX_VALUE - 8, size));
        try (Reader in = new InputStreamReader(Files.newInputStream(file), decoder)) {
            char[] buf = new char[BUFFER];
            boolean afterCr = false; // the previous char was a \r, already written as \n
            for (int n; (n = in.read(buf)) > 0; ) {
                for (int i = 0; i < n; i++) {
                    char c = buf[i];
                    if (c == '\n' && afterCr) { afterCr = false; continue; } // the \n of a \r\n
                    afterCr = c == '\r';
                    out.append(afterCr ? '\n' : c);
                }
            }
        }
        return out.toString();
    }
}
