package io.headfuse.formats;

import io.headfuse.formats.llama2c.Llama2cCheckpoint;
import io.headfuse.formats.meta.MetaCheckpoint;
import io.headfuse.formats.safetensors.HfCheckpoint;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

/** Opens a checkpoint in whichever supported format a path holds. */
public final class Checkpoints {
    private Checkpoints() {}

    /**
     * An HF folder (config.json + safetensors), a Meta folder (params.json + consolidated.NN.pth), or a llama2.c
     * {@code .bin} file (or a folder holding exactly one model {@code .bin}).
     */
    public static Checkpoint open(Path path) throws IOException {
        if (!Files.exists(path)) throw new CheckpointException(path, "no such file or folder");
        if (Files.isRegularFile(path)) {
            if (path.getFileName().toString().endsWith(".bin")) return Llama2cCheckpoint.open(path);
            if (path.getFileName().toString().equals("config.json")) return HfCheckpoint.open(path.getParent());
            throw new CheckpointException(path, "not a checkpoint: expected a folder, or a llama2.c .bin file");
        }
        if (!Files.isDirectory(path)) InputFiles.requireRegularFile(path); // a FIFO or device: refused, naming it
        if (Files.exists(path.resolve("config.json"))) return HfCheckpoint.open(path);
        if (Files.exists(path.resolve("params.json"))) return MetaCheckpoint.open(path);
        try (Stream<Path> files = Files.list(path)) {
            var bins = files.filter(p -> p.getFileName().toString().endsWith(".bin") && !Llama2cCheckpoint.isTokenizerFile(p)).toList();
            if (bins.size() == 1) return Llama2cCheckpoint.open(bins.get(0));
        }
        throw new CheckpointException(path, "no checkpoint found: expected config.json (HF), params.json (Meta) or one llama2.c .bin");
    }
}
