package io.headfuse.formats.meta;

import io.headfuse.formats.Checkpoint;
import java.io.IOException;
import java.nio.file.Path;

/** Meta Llama checkpoints (placeholder until the reader lands). */
public final class MetaCheckpoint {
    private MetaCheckpoint() {}

    public static Checkpoint open(Path dir) throws IOException { throw new UnsupportedOperationException("TODO"); }
}
