package io.headfuse.formats.safetensors;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Instant;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.ThreadLocalRandom;
import java.util.stream.Stream;

/**
 * The hidden folders a writer uses beside its target {@code OUT}: {@code .OUT.headfuse-ID} (the output being
 * written) and {@code .OUT.headfuse-ID.old} (the replaced output, between the two renames), announced by the
 * owner marker {@code .OUT.headfuse-ID.owner} (pid, process start time, host). The marker is created before the
 * folders and deleted after them, so a process killed at any point (kill -9, power loss) leaves a marker naming a
 * dead owner, and the next writer beside it removes what it left. A folder whose owner is alive, on another host
 * or unknown is never touched.
 */
final class StagingArea {
    private static final String INFIX = ".headfuse-";
    private static final String MARKER = ".owner";
    private static final String OLD = ".old";

    final Path marker;
    final Path staging;
    final Path aside;

    private StagingArea(Path marker, Path staging, Path aside) {
        this.marker = marker;
        this.staging = staging;
        this.aside = aside;
    }

    /** Claims a fresh id beside {@code target} (marker first, then the staging folder). */
    static StagingArea create(Path target) throws IOException {
        Path parent = target.getParent();
        String prefix = "." + target.getFileName() + INFIX;
        for (int attempt = 0; ; attempt++) {
            String id = Long.toString(ProcessHandle.current().pid()) + "-" + Integer.toUnsignedString(ThreadLocalRandom.current().nextInt(), 36);
            Path marker = parent.resolve(prefix + id + MARKER);
            try {
                Files.writeString(marker, ownerRecord(), StandardCharsets.UTF_8, java.nio.file.StandardOpenOption.CREATE_NEW,
                        java.nio.file.StandardOpenOption.WRITE);
            } catch (FileAlreadyExistsException taken) {
                if (attempt < 100) continue;
                throw taken;
            } catch (IOException e) {
                throw new io.headfuse.formats.CheckpointException(target, "cannot write beside the output in " + parent + ": " + e, e);
            }
            StagingArea a = new StagingArea(marker, parent.resolve(prefix + id), parent.resolve(prefix + id + OLD));
            Files.createDirectory(a.staging);
            return a;
        }
    }

    /** An owner marker of any writer: {@code .NAME.headfuse-PID-RANDOM.owner}. */
    private static final java.util.regex.Pattern MARKER_NAME = java.util.regex.Pattern.compile("\\..+" + java.util.regex.Pattern.quote(INFIX) + "\\d+-[0-9a-z]+" + java.util.regex.Pattern.quote(MARKER));

    /**
     * Removes the staging areas in {@code target}'s folder (of any output written there) whose owner process has
     * died. Returns how many.
     */
    static int removeAbandoned(Path target) {
        Path parent = target.getParent();
        int removed = 0;
        List<Path> markers;
        try (Stream<Path> s = Files.list(parent)) {
            markers = s.filter(p -> MARKER_NAME.matcher(p.getFileName().toString()).matches()).toList();
        } catch (IOException e) {
            return 0;
        }
        for (Path m : markers) {
            if (!ownerIsDead(m)) continue;
            String base = m.getFileName().toString();
            base = base.substring(0, base.length() - MARKER.length());
            deleteTree(parent.resolve(base));
            deleteTree(parent.resolve(base + OLD));
            deleteTree(m);
            removed++;
        }
        return removed;
    }

    /** Deletes the folders, then the marker: nothing of this writer remains. */
    void discard() {
        deleteTree(staging);
        deleteTree(aside);
        deleteTree(marker);
    }

    /**
     * Moves the finished staging folder into place; an existing target is first renamed aside and deleted only
     * once the new output is in place, so at every instant one complete output exists.
     */
    void publish(Path target) throws IOException {
        boolean replacing = Files.exists(target, java.nio.file.LinkOption.NOFOLLOW_LINKS);
        if (replacing) move(target, aside);
        try {
            move(staging, target);
        } catch (IOException e) {
            if (replacing) move(aside, target); // put the old output back
            throw e;
        }
        deleteTree(aside);
        deleteTree(marker);
    }

    /** Shutdown (Ctrl-C): put a replaced output back if the new one is not in place yet, then drop the rest. */
    void abandon(Path target) {
        if (Files.exists(aside) && !Files.exists(target)) {
            try {
                move(aside, target);
            } catch (IOException ignored) {
                // leave it for the next writer: its owner marker is about to name a dead process
                return;
            }
        }
        // The writing thread may still create files: a renamed staging folder makes its paths fail.
        Path dying = staging.resolveSibling(staging.getFileName() + ".dying");
        try {
            if (Files.exists(staging)) move(staging, dying);
        } catch (IOException ignored) {
            // delete in place
            dying = staging;
        }
        deleteTree(dying);
        deleteTree(aside);
        deleteTree(marker);
    }

    private static String ownerRecord() {
        ProcessHandle self = ProcessHandle.current();
        return "pid=" + self.pid() + "\nstart=" + self.info().startInstant().map(Instant::toString).orElse("") + "\nhost=" + host() + "\n";
    }

    /** True only when the marker names a process of this host that no longer runs (or a reused pid). */
    static boolean ownerIsDead(Path marker) {
        Properties p = new Properties();
        try (var r = Files.newBufferedReader(marker, StandardCharsets.UTF_8)) {
            p.load(r);
        } catch (IOException | IllegalArgumentException e) {
            return false;
        }
        if (!host().equals(p.getProperty("host"))) return false;
        long pid;
        try {
            pid = Long.parseLong(p.getProperty("pid", ""));
        } catch (NumberFormatException e) {
            return false;
        }
        Optional<ProcessHandle> h = ProcessHandle.of(pid);
        if (h.isEmpty() || !h.get().isAlive()) return true;
        String recorded = p.getProperty("start", "");
        Optional<Instant> start = h.get().info().startInstant();
        // Same pid, different start time: the owner died and its pid went to another process.
        return !recorded.isEmpty() && start.isPresent() && !start.get().toString().equals(recorded);
    }

    private static String host() {
        try {
            return java.net.InetAddress.getLocalHost().getHostName();
        } catch (IOException e) {
            return "localhost";
        }
    }

    private static void move(Path from, Path to) throws IOException {
        try {
            Files.move(from, to, StandardCopyOption.ATOMIC_MOVE);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(from, to);
        }
    }

    static void deleteTree(Path p) {
        for (int attempt = 0; attempt < 3 && Files.exists(p, java.nio.file.LinkOption.NOFOLLOW_LINKS); attempt++) {
            try (Stream<Path> s = Files.walk(p)) {
                s.sorted(Comparator.reverseOrder()).forEach(f -> {
                    try {
                        Files.deleteIfExists(f);
                    } catch (IOException e) {
                        throw new UncheckedIOException(e);
                    }
                });
            } catch (IOException | UncheckedIOException e) {
                // a file appeared or vanished while walking: walk again
            }
        }
    }
}
