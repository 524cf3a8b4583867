package io.headfuse.formats.safetensors;

import io.headfuse.formats.Checkpoint;
import java.io.IOException;
import java.nio.file.Path;

/** HF checkpoints (placeholder until the reader lands). */
public final class HfCheckpoint {
    private HfCheckpoint() {}

    public static Checkpoint open(Path dir) throws IOException { throw new UnsupportedOperationException("TODO"); }
}
