package io.headfuse.formats.safetensors;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Syncs finished shards to disk on a background thread while the writer fills the next one. A synchronous
 * fsync at the end of each shard leaves the writer idle while the disk drains that shard; {@code cp} followed by
 * {@code sync} never waits like that, because the kernel writes back in the background as the copy goes on. Here
 * the disk flushes shard i while shard i+1 is written, and {@link #awaitAll} waits for the last flushes before
 * the checkpoint is published, so durability is the same as before.
 */
final class ShardSyncer implements AutoCloseable {
    private final ExecutorService pool = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "headfuse-fsync");
        t.setDaemon(true);
        return t;
    });
    private final List<Future<?>> pending = new ArrayList<>();
    private final List<Path> files = new ArrayList<>();

    /** Queues an fsync of {@code file} (fsync on any descriptor of a file flushes all of its dirty pages). */
    void submit(Path file) {
        files.add(file);
        pending.add(pool.submit(() -> {
            try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
                ch.force(true);
            }
            return null;
        }));
    }

    /** Waits until every queued file is on disk; the first failure is rethrown naming its file. */
    void awaitAll() throws IOException {
        for (int i = 0; i < pending.size(); i++) {
            try {
                pending.get(i).get();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException(files.get(i) + ": interrupted while syncing to disk", e);
            } catch (ExecutionException e) {
                if (e.getCause() instanceof IOException io) throw io;
                throw new IOException(files.get(i) + ": sync failed: " + e.getCause().getMessage(), e.getCause());
            }
        }
        pending.clear();
        files.clear();
    }

    @Override public void close() { pool.shutdownNow(); }
}
