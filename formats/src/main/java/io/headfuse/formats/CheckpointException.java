package io.headfuse.formats;

import java.io.IOException;
import java.nio.file.Path;

/** A checkpoint file that cannot be used: the message names the file, the tensor where there is one, and the problem. */
public class CheckpointException extends IOException {
    private final Path file;

    public CheckpointException(Path file, String problem) {
        super(file + ": " + problem);
        this.file = file;
    }

    public CheckpointException(Path file, String problem, Throwable cause) {
        super(file + ": " + problem, cause);
        this.file = file;
    }

    /** The offending file. */
    public Path file() { return file; }
}
