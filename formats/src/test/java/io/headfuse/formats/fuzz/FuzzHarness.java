package io.headfuse.formats.fuzz;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.headfuse.formats.Checkpoint;
import io.headfuse.formats.CheckpointException;
import io.headfuse.formats.Checkpoints;
import io.headfuse.formats.DType;
import io.headfuse.formats.LlamaConfig;
import io.headfuse.formats.LlamaShapes;
import io.headfuse.formats.TensorSource;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.stream.Stream;
import java.util.zip.CRC32;

/**
 * Runs one fuzz case the way a user's tool would read a checkpoint, and sorts the outcome: it reads correctly
 * (open, config, every tensor's bytes, {@code toFloats}, the numbers {@code inspect} shows, and
 * {@link LlamaShapes#validate}), or it fails with a {@link CheckpointException} of one line naming a file of the
 * case. Anything else (another exception, an Error, more than 10 s) fails the test, naming the case.
 */
final class FuzzHarness {
    /** What an accepted case must read as, compared with the unmutated original. */
    enum Oracle {
        /** Same tensor names, dtypes, shapes and bytes: the mutation could not legitimately change the weights. */
        SAME_BYTES,
        /** Same names, dtypes and shapes; the bytes may differ (a flipped weight byte, a different head count for RoPE). */
        SAME_SHAPES
    }

    /** One tensor as read: dtype, shape and a CRC-32 of its bytes. */
    record Seen(DType dtype, long[] shape, long crc) {}

    private final String family;
    private int cases, accepted, refused;
    private long nanos; // time spent in cases: writing them is the caller's, reading them is ours

    FuzzHarness(String family) { this.family = family; }

    /** Reads {@code model} (a folder or file inside {@code caseDir}), checks the outcome against {@code original}; true when accepted. */
    boolean run(String description, Path caseDir, Path model, Map<String, Seen> original, Oracle oracle) {
        long t0 = System.nanoTime();
        int before = accepted;
        try {
            check(description, caseDir, model, original, oracle);
            return accepted > before;
        } finally {
            nanos += System.nanoTime() - t0;
        }
    }

    private void check(String description, Path caseDir, Path model, Map<String, Seen> original, Oracle oracle) {
        cases++;
        Object outcome;
        try {
            outcome = assertTimeoutPreemptively(Duration.ofSeconds(10), () -> {
                try {
                    return readEverything(model);
                } catch (CheckpointException e) {
                    return e;
                }
            }, () -> family + " case " + description + ": more than 10 s");
        } catch (Throwable t) { // NPE, index, arithmetic, OOM, a plain IOException, a timeout: all are findings
            throw new AssertionError(family + " case " + description + ": unclean failure " + t, t);
        }
        if (outcome instanceof CheckpointException e) {
            refused++;
            String m = e.getMessage();
            assertTrue(m.contains(caseDir.toString()), () -> family + " case " + description + ": the message names no file of the case: " + m);
            assertTrue(!m.contains("\n"), () -> family + " case " + description + ": the message is not one line: " + m);
            return;
        }
        accepted++;
        if (Boolean.getBoolean("headfuse.fuzz.verbose")) System.out.println("accepted: " + family + " " + description);
        @SuppressWarnings("unchecked") Map<String, Seen> seen = (Map<String, Seen>) outcome;
        // Extra tensors are legal (an HF file may carry more than the model uses); every original one must be there.
        for (String name : original.keySet())
            assertTrue(seen.containsKey(name), () -> family + " case " + description + ": accepted without tensor " + name);
        for (var e : original.entrySet()) {
            Seen a = seen.get(e.getKey()), o = e.getValue();
            assertEquals(o.dtype(), a.dtype(), () -> family + " case " + description + ": accepted, " + e.getKey() + " dtype");
            assertArrayEquals(o.shape(), a.shape(), () -> family + " case " + description + ": accepted, " + e.getKey() + " shape");
            if (oracle == Oracle.SAME_BYTES)
                assertEquals(o.crc(), a.crc(), () -> family + " case " + description + ": accepted, but " + e.getKey() + " reads other bytes");
        }
    }

    /** Everything a reader of the checkpoint touches; returns what each tensor held. */
    static Map<String, Seen> readEverything(Path model) throws IOException {
        try (Checkpoint c = Checkpoints.open(model)) {
            LlamaConfig cfg = c.config();
            Map<String, Seen> seen = new LinkedHashMap<>();
            for (TensorSource t : c.tensors()) {
                CRC32 crc = new CRC32();
                try (Arena arena = Arena.ofConfined()) {
                    MemorySegment b = t.bytes(arena);
                    if (b.byteSize() != t.byteSize()) throw new AssertionError(t.name() + ": " + b.byteSize() + " bytes for " + t.byteSize());
                    crc.update(b.asByteBuffer());
                }
                if (t.dtype().isFloat() && t.toFloats().length != t.numel()) throw new AssertionError(t.name() + ": toFloats length");
                seen.put(t.name(), new Seen(t.dtype(), t.shape(), crc.getValue()));
            }
            // What inspect (ModelInfo) computes from a checkpoint.
            DType stored = c.storedDtype();
            long onDisk = 0;
            for (Path f : c.files()) onDisk += Files.size(f);
            if (c.parameterCount() < 0 || onDisk < 0 || cfg.kvBytesPerToken(stored) <= 0) throw new AssertionError("inspect numbers");
            cfg.hasHeadMaps();
            c.sideFiles();
            LlamaShapes.validate(c);
            return seen;
        }
    }

    /** Prints and returns the tally; the lead copies these lines into the closing note. */
    int report() {
        System.out.printf("fuzz %-52s cases %5d  accepted %5d  refused %5d  (reading %.1f s)%n", family, cases, accepted, refused, nanos / 1e9);
        return cases;
    }

    int cases() { return cases; }
    int accepted() { return accepted; }
    int refused() { return refused; }

    // ---- case folders ----

    /** A fresh case folder holding links to every file of {@code base} except {@code replaced}, which the case writes. */
    static Path caseDir(Path root, String name, Path base, String... replaced) throws IOException {
        Path dir = Files.createDirectories(root.resolve(name));
        try (Stream<Path> files = Files.list(base)) {
            for (Path f : files.toList()) {
                String n = f.getFileName().toString();
                if (java.util.Arrays.asList(replaced).contains(n)) continue;
                Files.createSymbolicLink(dir.resolve(n), f.toAbsolutePath());
            }
        }
        return dir;
    }

    static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir, java.nio.file.LinkOption.NOFOLLOW_LINKS)) return;
        try (Stream<Path> all = Files.walk(dir)) {
            for (Path p : all.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
        }
    }

    /** Kinds of non-files put where a file is expected. */
    enum Special { FOLDER, FIFO, DEV_ZERO, DANGLING_LINK, EMPTY }

    static boolean makeSpecial(Path at, Special kind) throws IOException {
        switch (kind) {
            case FOLDER -> Files.createDirectories(at);
            case FIFO -> {
                try {
                    if (new ProcessBuilder("mkfifo", at.toString()).inheritIO().start().waitFor() != 0) return false;
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return false;
                } catch (IOException e) {
                    return false; // no mkfifo on this system
                }
            }
            case DEV_ZERO -> {
                if (!Files.exists(Path.of("/dev/zero"))) return false;
                Files.createSymbolicLink(at, Path.of("/dev/zero"));
            }
            case DANGLING_LINK -> Files.createSymbolicLink(at, at.resolveSibling("no-such-target"));
            case EMPTY -> Files.write(at, new byte[0]);
        }
        return true;
    }
}
