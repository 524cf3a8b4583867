package io.headfuse.e2e;

import io.headfuse.testkit.Assets;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Bad input through the CLI: one clear line naming the file and the problem, exit 1 (2 for usage), no output
 * or staging folder left behind, and the input byte for byte as it was.
 */
class CliErrorsTest {
    @TempDir Path tmp;

    /** Converts {@code in} into tmp/work/out and checks the failure contract; returns stderr. */
    private String convertFails(Path in, String... extra) throws IOException {
        Map<String, String> before = Cli.hashes(in);
        Path work = Files.createDirectories(tmp.resolve("work"));
        List<String> args = new java.util.ArrayList<>(List.of("convert", "--model", in.toString(), "--out", work.resolve("out").toString()));
        args.addAll(Arrays.asList(extra));
        if (!args.contains("--kv-heads")) args.addAll(List.of("--kv-heads", "4"));
        Cli r = Cli.run(args.toArray(String[]::new));
        assertEquals(1, r.exit(), r.err());
        assertEquals(1, r.err().strip().lines().count(), "one line: " + r.err());
        try (Stream<Path> s = Files.list(work)) {
            assertEquals(List.of(), s.toList(), "nothing left behind");
        }
        assertEquals(before, Cli.hashes(in), "input untouched");
        return r.err();
    }

    private Path storiesCopy() throws IOException { return Cli.copyDir(Assets.model("stories260K-mha-hf"), tmp.resolve("in")); }

    private static void writeSafetensors(Path file, String header, int dataBytes) throws IOException {
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(8 + h.length + dataBytes).order(ByteOrder.LITTLE_ENDIAN).putLong(h.length).put(h);
        Files.write(file, b.array());
    }

    @Test
    void truncatedShard() throws IOException {
        Path in = storiesCopy();
        Path f = in.resolve("model.safetensors");
        byte[] b = Files.readAllBytes(f);
        Files.write(f, Arrays.copyOf(b, b.length / 2));
        String err = convertFails(in);
        assertTrue(err.contains(f.toString()) && err.contains("truncated") && err.contains("tensor "), err);
    }

    @Test
    void headerLengthBeyondTheFile() throws IOException {
        Path in = storiesCopy();
        Path f = in.resolve("model.safetensors");
        Files.write(f, ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putLong(1 << 20).putLong(0).array());
        String err = convertFails(in);
        assertTrue(err.contains(f.toString()) && err.contains("runs beyond the end of the file"), err);
    }

    @Test
    void overlappingOffsets() throws IOException {
        Path in = storiesCopy();
        Path f = in.resolve("model.safetensors");
        writeSafetensors(f, "{\"model.norm.weight\":{\"dtype\":\"F32\",\"shape\":[64],\"data_offsets\":[0,256]},"
                + "\"lm_head.weight\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[128,136]}}", 256);
        String err = convertFails(in);
        assertTrue(err.contains(f.toString()) && err.contains("tensor lm_head.weight") && err.contains("overlap tensor model.norm.weight"), err);
    }

    @Test
    void wrongByteLength() throws IOException {
        Path in = storiesCopy();
        Path f = in.resolve("model.safetensors");
        writeSafetensors(f, "{\"model.norm.weight\":{\"dtype\":\"F32\",\"shape\":[64],\"data_offsets\":[0,200]}}", 256);
        String err = convertFails(in);
        assertTrue(err.contains(f.toString()) && err.contains("tensor model.norm.weight") && err.contains("does not match shape"), err);
    }

    @Test
    void missingShard() throws IOException {
        Path in = Cli.copyDir(Assets.model("headfuse-mha-s"), tmp.resolve("in"));
        Files.delete(in.resolve("model-00001-of-00002.safetensors"));
        String err = convertFails(in);
        assertTrue(err.contains("model.safetensors.index.json") && err.contains("missing shard model-00001-of-00002.safetensors"), err);
    }

    @Test
    void badJson() throws IOException {
        Path in = storiesCopy();
        Files.writeString(in.resolve("config.json"), "{\"hidden_size\": 64, \"num_attention_heads\": ");
        String err = convertFails(in);
        assertTrue(err.contains(in.resolve("config.json").toString()) && err.contains("not valid JSON"), err);
    }

    @Test
    void pickleNamingAForeignGlobal() throws IOException {
        Path in = Cli.copyDir(Assets.model("stories260K-mha-meta"), tmp.resolve("in"));
        Path pth = in.resolve("consolidated.00.pth");
        // protocol 2: GLOBAL os.system, the argument tuple ("echo pwned",), REDUCE, STOP
        java.io.ByteArrayOutputStream pk = new java.io.ByteArrayOutputStream();
        pk.writeBytes(new byte[] {(byte) 0x80, 2});
        pk.writeBytes("cos\nsystem\n".getBytes(StandardCharsets.US_ASCII));
        pk.writeBytes(new byte[] {'X', 10, 0, 0, 0});
        pk.writeBytes("echo pwned".getBytes(StandardCharsets.US_ASCII));
        pk.writeBytes(new byte[] {(byte) 0x85, 'R', '.'});
        byte[] pickle = pk.toByteArray();
        try (ZipOutputStream z = new ZipOutputStream(Files.newOutputStream(pth))) {
            ZipEntry e = new ZipEntry("consolidated/data.pkl");
            e.setMethod(ZipEntry.STORED);
            e.setSize(pickle.length);
            java.util.zip.CRC32 crc = new java.util.zip.CRC32();
            crc.update(pickle);
            e.setCrc(crc.getValue());
            z.putNextEntry(e);
            z.write(pickle);
            z.closeEntry();
        }
        String err = convertFails(in);
        assertTrue(err.contains(pth.toString()) && err.contains("os") && err.contains("system"), err);
    }

    @Test
    void kvHeadsNotDividingTheHeadCount() throws IOException {
        String err = convertFails(Assets.model("stories260K-mha-hf"), "--kv-heads", "3");
        assertTrue(err.contains("--kv-heads 3 does not divide the 8 attention heads"), err);
    }

    @Test
    void existingOutputFolderIsRefusedAndKept() throws IOException {
        Path out = Files.createDirectories(tmp.resolve("out"));
        Files.writeString(out.resolve("keep.txt"), "mine");
        Cli r = Cli.run("convert", "--model", Assets.model("stories260K-mha-hf").toString(), "--out", out.toString(), "--kv-heads", "4");
        assertEquals(1, r.exit());
        assertTrue(r.err().contains(out.toString()) && r.err().contains("already exists (use --force"), r.err());
        assertEquals("mine", Files.readString(out.resolve("keep.txt")));
        try (Stream<Path> s = Files.list(tmp)) {
            assertEquals(List.of(out), s.toList());
        }
    }

    @Test
    void outputInsideTheInputIsRefused() throws IOException {
        Path in = storiesCopy();
        Map<String, String> before = Cli.hashes(in);
        Cli r = Cli.run("convert", "--model", in.toString(), "--out", in.resolve("gqa").toString(), "--kv-heads", "4");
        assertEquals(1, r.exit());
        assertTrue(r.err().contains("overlaps the input"), r.err());
        Cli parent = Cli.run("convert", "--model", in.toString(), "--out", tmp.toString(), "--kv-heads", "4", "--force");
        assertEquals(1, parent.exit(), "--force on a folder holding the input must not delete it");
        assertEquals(before, Cli.hashes(in));
    }

    @Test
    void usageErrorsExitWithTwo() {
        assertEquals(2, Cli.run().exit());
        assertEquals(2, Cli.run("frobnicate").exit());
        Cli missing = Cli.run("convert", "--kv-heads", "4");
        assertEquals(2, missing.exit());
        assertTrue(missing.err().contains("missing required option --out"), missing.err());
        assertEquals(2, Cli.run("convert", "--out", "x", "--kv-heads", "four").exit());
        assertEquals(2, Cli.run("convert", "--out", "x", "--kv-heads", "4", "--dtype", "int3").exit());
        assertEquals(2, Cli.run("convert", "--out", "x", "--kv-heads", "4", "--bogus").exit());
        Cli grouping = Cli.run("convert", "--out", "x", "--kv-heads", "4", "--strategy", "asym", "--calib", "x.txt", "--grouping", "kmeans");
        assertEquals(2, grouping.exit());
        assertTrue(grouping.err().contains("--grouping must be one of swaps, ward"), grouping.err());
        assertEquals(0, Cli.run("--help").exit());
    }

    @Test
    void inspectReportsKvCacheBytes() {
        Cli r = Cli.run("inspect", Assets.model("headfuse-mha-m").toString());
        assertEquals(0, r.exit(), r.err());
        // 6 layers x 8 kv heads x 64 dims x 2 (K and V) x 2 bytes (bf16) = 12 KiB per token
        assertTrue(r.out().contains("12.00 KiB per token, 48.00 MiB per 4096-token context (bf16)"), r.out());
        assertTrue(r.out().contains("8 query, 8 kv") && r.out().contains("5 file(s)"), r.out());
        Cli missing = Cli.run("inspect", "/nonexistent/model");
        assertEquals(1, missing.exit());
        assertTrue(missing.err().contains("/nonexistent/model: no such file or folder"), missing.err());
    }

    /** inspect reports KV bytes from the config, so a config its tensors contradict is refused, not described. */
    @Test
    void inspectRefusesAConfigTheTensorsContradict() throws IOException {
        Path in = storiesCopy();
        Path config = in.resolve("config.json");
        Files.writeString(config, Files.readString(config).replace("\"num_key_value_heads\": 8", "\"num_key_value_heads\": 2"));
        Map<String, String> before = Cli.hashes(in);
        Cli r = Cli.run("inspect", in.toString());
        assertEquals(1, r.exit(), r.out());
        assertEquals(1, r.err().strip().lines().count(), "one line: " + r.err());
        assertTrue(r.err().contains(in.resolve("model.safetensors").toString()) && r.err().contains("tensor model.layers.0.self_attn.k_proj.weight has shape [64, 64]")
                && r.err().contains("the config implies [16, 64]"), r.err());
        assertEquals("", r.out(), "nothing described");
        assertEquals(before, Cli.hashes(in), "input untouched");
    }
}
