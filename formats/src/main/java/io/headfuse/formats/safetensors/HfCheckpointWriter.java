package io.headfuse.formats.safetensors;

import io.headfuse.formats.CheckpointException;
import io.headfuse.formats.LlamaConfig;
import io.headfuse.formats.TensorSource;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.function.LongConsumer;
import java.util.function.Supplier;
import java.util.stream.Stream;

/**
 * Writes a complete HF checkpoint folder atomically: everything goes into a hidden staging folder beside the
 * target, which is renamed into place only once every file is written and synced. A failure (or Ctrl-C) leaves
 * no partial output behind. An existing target is refused unless {@code force}; the target may never be, contain
 * or lie inside an input folder, so the input is never touched.
 */
public final class HfCheckpointWriter {
    /**
     * What to write, beside the tensors: the config, files copied verbatim, and generated files (name -> bytes:
     * reports, plots), asked for after the tensors are written so that a report can include the time they took.
     * Everything lands in the staging folder, so it is published (or discarded) together with the weights.
     */
    public record Contents(LlamaConfig config, List<TensorSource> tensors, List<Path> copiedFiles, Supplier<Map<String, byte[]>> generatedFiles) {}

    private HfCheckpointWriter() {}

    /** Refuses targets that would lose data; call before any expensive work so errors come early. */
    public static void checkTarget(Path target, boolean force, List<Path> inputs) throws IOException {
        Path t = target.toAbsolutePath().normalize();
        for (Path in : inputs) {
            Path i = in.toAbsolutePath().normalize();
            Path inDir = Files.isRegularFile(i) ? i.getParent() : i;
            if (t.startsWith(inDir) || inDir.startsWith(t) || (Files.exists(t) && Files.exists(inDir) && Files.isSameFile(t, inDir)))
                throw new CheckpointException(target, "output folder overlaps the input " + in + ": choose another --out");
        }
        if (Files.exists(target, java.nio.file.LinkOption.NOFOLLOW_LINKS) && !force)
            throw new CheckpointException(target, "output already exists (use --force to replace it)");
        if (Files.exists(target) && !Files.isDirectory(target))
            throw new CheckpointException(target, "output exists and is not a folder");
        Path parent = t.getParent();
        if (parent != null && Files.exists(parent) && !Files.isDirectory(parent))
            throw new CheckpointException(target, "parent " + parent + " is not a folder");
    }

    public static void write(Path target, Contents contents, long shardSize, boolean force, List<Path> inputs, LongConsumer progress) throws IOException {
        checkTarget(target, force, inputs);
        Path abs = target.toAbsolutePath().normalize();
        Files.createDirectories(abs.getParent());
        Path staging = Files.createTempDirectory(abs.getParent(), "." + abs.getFileName() + ".headfuse-");
        // A temp folder is created private (rwx------); the published checkpoint should read like any other folder.
        try {
            Files.setPosixFilePermissions(staging, java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x"));
        } catch (UnsupportedOperationException notPosix) {
            // keep the default permissions
        }
        Thread cleanup = new Thread(() -> deleteQuietly(staging));
        Runtime.getRuntime().addShutdownHook(cleanup);
        boolean done = false;
        try {
            SafetensorsWriter.write(staging, contents.tensors(), shardSize, progress);
            Files.writeString(staging.resolve("config.json"), contents.config().toJsonString());
            for (Path f : contents.copiedFiles()) Files.copy(f, staging.resolve(f.getFileName().toString()));
            for (var e : contents.generatedFiles().get().entrySet()) Files.write(staging.resolve(e.getKey()), e.getValue());
            publish(staging, abs, force);
            done = true;
        } finally {
            if (!done) deleteQuietly(staging);
            try {
                Runtime.getRuntime().removeShutdownHook(cleanup);
            } catch (IllegalStateException shuttingDown) {
                // the hook is running or about to: it cleans up
            }
        }
    }

    /** Moves the finished staging folder into place; an old target is moved aside first and deleted after. */
    private static void publish(Path staging, Path target, boolean force) throws IOException {
        Path aside = null;
        if (Files.exists(target)) {
            if (!force) throw new CheckpointException(target, "output already exists (use --force to replace it)");
            aside = Files.createTempDirectory(target.getParent(), "." + target.getFileName() + ".old-");
            Files.delete(aside);
            move(target, aside);
        }
        move(staging, target);
        if (aside != null) deleteQuietly(aside);
    }

    private static void move(Path from, Path to) throws IOException {
        try {
            Files.move(from, to, StandardCopyOption.ATOMIC_MOVE);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(from, to);
        }
    }

    static void deleteQuietly(Path dir) {
        if (!Files.exists(dir)) return;
        try (Stream<Path> s = Files.walk(dir)) {
            s.sorted(Comparator.reverseOrder()).forEach(p -> {
                try {
                    Files.deleteIfExists(p);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
        } catch (IOException | UncheckedIOException e) {
            // best effort: the staging folder is hidden and named after the target, so a leftover is recognisable
        }
    }
}
