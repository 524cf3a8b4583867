package io.headfuse.formats.safetensors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.headfuse.formats.CheckpointException;
import io.headfuse.formats.ComputedTensor;
import io.headfuse.formats.TensorSource;
import io.headfuse.testkit.Assets;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The writer's data-safety rules: what --force may replace, staging cleanup, symlinked inputs. */
class HfCheckpointWriterTest {
    @TempDir Path tmp;

    private static final Path MODEL = Path.of("stories260K-mha-hf");

    private HfCheckpoint input() throws IOException { return HfCheckpoint.open(Assets.model(MODEL.toString())); }

    private void write(HfCheckpoint in, Path out, boolean force, List<TensorSource> tensors) throws IOException {
        HfCheckpointWriter.write(out, new HfCheckpointWriter.Contents(in.config(), tensors, in.sideFiles(),
                () -> Map.of(OutputTarget.REPORT, "{}".getBytes(StandardCharsets.UTF_8))), 100_000, force, List.of(in.source()), n -> {});
    }

    private static Map<String, String> listing(Path dir) throws IOException {
        Map<String, String> m = new TreeMap<>();
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.filter(Files::isRegularFile).toList()) m.put(dir.relativize(p).toString(), Long.toString(Files.size(p)));
        }
        return m;
    }

    @Test
    void forceRefusesAFolderWithForeignFilesAndKeepsThem() throws IOException {
        Path out = Files.createDirectories(tmp.resolve("home"));
        Files.writeString(out.resolve("config.json"), "{}");
        Files.writeString(out.resolve("thesis.tex"), "years of work");
        Files.createDirectories(out.resolve("photos")).resolve("cat.jpg").toFile().createNewFile();
        Map<String, String> before = listing(tmp);
        try (HfCheckpoint in = input()) {
            CheckpointException e = assertThrows(CheckpointException.class, () -> write(in, out, true, in.tensors()));
            assertTrue(e.getMessage().startsWith(out + ": --force replaces only an earlier model output") && e.getMessage().contains("'photos'"), e.getMessage());
        }
        assertEquals(before, listing(tmp), "every file kept, nothing staged");
        assertEquals("years of work", Files.readString(out.resolve("thesis.tex")));
    }

    @Test
    void forceReplacesAnEarlierOutputOrAnEmptyFolder() throws IOException {
        try (HfCheckpoint in = input()) {
            Path out = tmp.resolve("gqa");
            write(in, out, false, in.tensors());
            Map<String, String> first = listing(out);
            assertTrue(first.containsKey("model-00001-of-00014.safetensors") && first.containsKey(OutputTarget.REPORT), first.toString());
            Files.writeString(out.resolve("notes.txt"), "headfuse.json marks this folder as an output, so it may go");
            write(in, out, true, in.tensors());
            assertEquals(first, listing(out));
            // only checkpoint files, no headfuse.json (e.g. a transformers save_pretrained folder)
            Files.delete(out.resolve(OutputTarget.REPORT));
            write(in, out, true, in.tensors());
            assertEquals(first, listing(out));
            Path empty = Files.createDirectories(tmp.resolve("empty"));
            write(in, empty, true, in.tensors());
            assertEquals(first, listing(empty));
            assertThrows(CheckpointException.class, () -> write(in, empty, false, in.tensors()), "no --force, no replacement");
        }
        try (Stream<Path> s = Files.list(tmp)) {
            assertEquals(List.of("empty", "gqa"), s.map(p -> p.getFileName().toString()).sorted().toList(), "no staging left");
        }
    }

    @Test
    void aFailureInTheMiddleOfWritingLeavesNothingAndKeepsTheOldOutput() throws IOException {
        try (HfCheckpoint in = input()) {
            Path out = tmp.resolve("gqa");
            write(in, out, false, in.tensors());
            Map<String, String> old = listing(out);
            // A tensor late in the list throws when the writer asks for its values, after earlier shards are on disk.
            AtomicInteger asked = new AtomicInteger();
            List<TensorSource> failing = new ArrayList<>(in.tensors());
            TensorSource last = failing.getLast();
            failing.set(failing.size() - 1, new ComputedTensor(last.name(), last.dtype(), last.shape(), () -> {
                asked.incrementAndGet();
                throw new IOException("injected failure");
            }));
            IOException e = assertThrows(IOException.class, () -> write(in, out, true, failing));
            assertTrue(e.getMessage().contains("injected failure"), e.getMessage());
            assertEquals(1, asked.get(), "the failure came while writing");
            assertEquals(old, listing(out), "the earlier output is untouched");
            Path fresh = tmp.resolve("fresh");
            assertThrows(IOException.class, () -> write(in, fresh, false, failing));
        }
        try (Stream<Path> s = Files.list(tmp)) {
            assertEquals(List.of("gqa"), s.map(p -> p.getFileName().toString()).toList(), "no staging, no partial output");
        }
    }

    @Test
    void stagingOfADeadWriterIsRemovedThatOfALiveOneKept() throws Exception {
        Process p = new ProcessBuilder("true").start();
        p.waitFor();
        long deadPid = p.pid();
        Path out = tmp.resolve("gqa");
        Path dead = Files.createDirectories(tmp.resolve(".gqa.headfuse-1-dead"));
        Files.writeString(dead.resolve("model-00001-of-00003.safetensors"), "half");
        Files.createDirectories(tmp.resolve(".gqa.headfuse-1-dead.old"));
        Files.writeString(tmp.resolve(".gqa.headfuse-1-dead.owner"), "pid=" + deadPid + "\nstart=\nhost=" + java.net.InetAddress.getLocalHost().getHostName() + "\n");
        Path live = Files.createDirectories(tmp.resolve(".gqa.headfuse-2-live"));
        ProcessHandle self = ProcessHandle.current();
        Files.writeString(tmp.resolve(".gqa.headfuse-2-live.owner"), "pid=" + self.pid() + "\nstart=" + self.info().startInstant().orElseThrow()
                + "\nhost=" + java.net.InetAddress.getLocalHost().getHostName() + "\n");
        Path foreignHost = Files.createDirectories(tmp.resolve(".gqa.headfuse-3-remote"));
        Files.writeString(tmp.resolve(".gqa.headfuse-3-remote.owner"), "pid=" + deadPid + "\nstart=\nhost=another-machine\n");
        // a dead writer of another output in the same folder
        Path otherDead = Files.createDirectories(tmp.resolve(".mqa.headfuse-4-dead"));
        Files.writeString(tmp.resolve(".mqa.headfuse-4-dead.owner"), "pid=" + deadPid + "\nstart=\nhost=" + java.net.InetAddress.getLocalHost().getHostName() + "\n");
        // this process's pid with another start time: the owner died and its pid was reused
        Path reused = Files.createDirectories(tmp.resolve(".gqa.headfuse-5-reused"));
        Files.writeString(tmp.resolve(".gqa.headfuse-5-reused.owner"), "pid=" + self.pid() + "\nstart=1970-01-01T00:00:00Z\nhost="
                + java.net.InetAddress.getLocalHost().getHostName() + "\n");
        try (HfCheckpoint in = input()) {
            write(in, out, false, in.tensors());
        }
        assertFalse(Files.exists(reused), "a reused pid does not keep a dead writer's staging");
        assertFalse(Files.exists(otherDead) || Files.exists(tmp.resolve(".mqa.headfuse-4-dead.owner")));
        assertFalse(Files.exists(dead) || Files.exists(tmp.resolve(".gqa.headfuse-1-dead.old")) || Files.exists(tmp.resolve(".gqa.headfuse-1-dead.owner")));
        assertTrue(Files.isDirectory(live) && Files.exists(tmp.resolve(".gqa.headfuse-2-live.owner")), "a live owner's staging is kept");
        assertTrue(Files.isDirectory(foreignHost), "another host's staging is kept: its owner cannot be checked");
        try (Stream<Path> s = Files.list(tmp)) {
            assertEquals(List.of(".gqa.headfuse-2-live", ".gqa.headfuse-2-live.owner", ".gqa.headfuse-3-remote", ".gqa.headfuse-3-remote.owner", "gqa"),
                    s.map(x -> x.getFileName().toString()).sorted().toList());
        }
    }

    @Test
    void writingIntoTheInputThroughASymlinkIsRefused() throws IOException {
        Path input = Files.createDirectories(tmp.resolve("input"));
        try (Stream<Path> s = Files.list(Assets.model(MODEL.toString()))) {
            for (Path f : s.toList()) Files.copy(f, input.resolve(f.getFileName().toString()));
        }
        Map<String, String> before = listing(input);
        Path link = Files.createSymbolicLink(tmp.resolve("link"), input);
        try (HfCheckpoint in = HfCheckpoint.open(input)) {
            CheckpointException viaOut = assertThrows(CheckpointException.class,
                    () -> HfCheckpointWriter.checkTarget(link.resolve("sub"), false, List.of(input)));
            assertTrue(viaOut.getMessage().contains("overlaps the input"), viaOut.getMessage());
            CheckpointException viaModel = assertThrows(CheckpointException.class,
                    () -> HfCheckpointWriter.checkTarget(input.resolve("sub"), false, List.of(link)));
            assertTrue(viaModel.getMessage().contains("overlaps the input"), viaModel.getMessage());
            assertThrows(CheckpointException.class, () -> HfCheckpointWriter.checkTarget(link.resolve("a/b/../c"), true, List.of(input)));
            assertThrows(CheckpointException.class, () -> write(in, link, true, in.tensors()), "the input itself, through a link");
        }
        assertEquals(before, listing(input));
    }
}
