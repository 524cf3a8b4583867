package io.headfuse.converter.cli;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Refuses data files that are not text before a model is loaded: a perplexity of a binary file (a checkpoint
 * passed as --data by mistake) is a meaningless number. Looks at the first bytes only: a NUL byte, or bytes that
 * are not UTF-8, there mean binary; stray bad bytes later are left to the lenient reader.
 */
final class TextFiles {
    static final int SNIFF = 8192;

    private TextFiles() {}

    static void requireText(Path file) throws IOException {
        byte[] head;
        try (InputStream in = Files.newInputStream(file)) {
            head = in.readNBytes(SNIFF);
        }
        for (int i = 0; i < head.length; i++)
            if (head[i] == 0) throw new IOException(file + ": not a text file (NUL byte at offset " + i + ")");
        CharsetDecoder d = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT).onUnmappableCharacter(CodingErrorAction.REPORT);
        ByteBuffer b = ByteBuffer.wrap(head);
        // Not end of input: a character cut at the end of the sniffed bytes is not an error.
        CoderResult r = d.decode(b, CharBuffer.allocate(head.length), head.length < SNIFF);
        if (r.isError()) throw new IOException(file + ": not UTF-8 text (invalid byte at offset " + b.position() + ")");
    }
}
