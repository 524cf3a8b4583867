package io.headfuse.formats.safetensors;

import io.headfuse.formats.LlamaConfig;
import io.headfuse.formats.TensorSource;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.function.LongConsumer;
import java.util.function.Supplier;

/**
 * Writes a complete HF checkpoint folder atomically: everything goes into a hidden staging folder beside the
 * target ({@link StagingArea}), which is renamed into place only once every file is written and synced. A failure
 * (or Ctrl-C) leaves no partial output behind, and a writer killed outright is cleaned up by the next one. Which
 * targets are allowed, and when {@code force} may replace one, is {@link OutputTarget}'s rule.
 */
public final class HfCheckpointWriter {
    /**
     * What to write, beside the tensors: the config, files copied verbatim, and generated files (name -> bytes:
     * reports, plots), asked for after the tensors are written so that a report can include the time they took.
     * Everything lands in the staging folder, so it is published (or discarded) together with the weights.
     */
    public record Contents(LlamaConfig config, List<TensorSource> tensors, List<Path> copiedFiles, Supplier<Map<String, byte[]>> generatedFiles) {}

    private HfCheckpointWriter() {}

    /** Refuses targets that would lose data; call before any expensive work so errors come early. See {@link OutputTarget}. */
    public static void checkTarget(Path target, boolean force, List<Path> inputs) throws IOException {
        OutputTarget.check(target, force, inputs);
    }

    public static void write(Path target, Contents contents, long shardSize, boolean force, List<Path> inputs, LongConsumer progress) throws IOException {
        checkTarget(target, force, inputs);
        Path abs = OutputTarget.realPath(target);
        Files.createDirectories(abs.getParent());
        StagingArea.removeAbandoned(abs);
        StagingArea area = StagingArea.create(abs);
        Path staging = area.staging;
        // Ctrl-C (or SIGTERM) runs shutdown hooks, not finally blocks: the hook removes this writer's folders.
        Thread cleanup = new Thread(() -> area.abandon(abs), "headfuse-staging-cleanup");
        Runtime.getRuntime().addShutdownHook(cleanup);
        boolean done = false;
        try {
            SafetensorsWriter.write(staging, contents.tensors(), shardSize, progress);
            Files.writeString(staging.resolve("config.json"), contents.config().toJsonString());
            for (Path f : contents.copiedFiles()) Files.copy(f, staging.resolve(f.getFileName().toString()));
            for (var e : contents.generatedFiles().get().entrySet()) Files.write(staging.resolve(e.getKey()), e.getValue());
            // Checked again: another process may have created the target while this one was writing.
            OutputTarget.check(target, force, inputs);
            area.publish(abs);
            done = true;
        } finally {
            if (!done) area.discard();
            try {
                Runtime.getRuntime().removeShutdownHook(cleanup);
            } catch (IllegalStateException shuttingDown) {
                // the hook is running or about to: it cleans up
            }
        }
    }
}
