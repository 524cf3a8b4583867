package io.headfuse.formats.llama2c;

import io.headfuse.formats.Checkpoint;
import java.io.IOException;
import java.nio.file.Path;

/** llama2.c {@code .bin} checkpoints (placeholder until the reader lands). */
public final class Llama2cCheckpoint {
    private Llama2cCheckpoint() {}

    public static Checkpoint open(Path file) throws IOException { throw new UnsupportedOperationException("TODO"); }

    public static boolean isTokenizerFile(Path p) {
        String n = p.getFileName().toString();
        return n.startsWith("tok") && n.endsWith(".bin");
    }
}
