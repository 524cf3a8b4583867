package io.headfuse.formats;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.headfuse.formats.meta.MetaCheckpoint;
import io.headfuse.formats.meta.MetaTestSupport;
import io.headfuse.testkit.Assets;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * One test per class of defect the fuzzing pass of issue 7 found in the readers, each on a copy of a real asset:
 * the defect is reproduced and must now be refused with a one-line message naming the file.
 */
class ReaderHardeningTest {
    @TempDir Path tmp;

    private Path copy(String model) throws IOException {
        Path to = Files.createDirectories(tmp.resolve(model));
        try (var files = Files.list(Assets.model(model))) {
            for (Path f : files.toList()) Files.copy(f, to.resolve(f.getFileName()));
        }
        return to;
    }

    private static CheckpointException refused(Path open, Path named, String... fragments) {
        CheckpointException e = assertTimeoutPreemptively(Duration.ofSeconds(10), () -> assertThrows(CheckpointException.class, () -> {
            try (Checkpoint c = Checkpoints.open(open)) {
                LlamaShapes.validate(c);
                for (TensorSource t : c.tensors()) try (Arena a = Arena.ofConfined()) { t.bytes(a); }
            }
        }));
        assertTrue(e.getMessage().startsWith(named.toString()), "names " + named + ": " + e.getMessage());
        for (String f : fragments) assertTrue(e.getMessage().contains(f), "says '" + f + "': " + e.getMessage());
        return e;
    }

    // ---- safetensors ----

    /** The original stories260K-mha-hf file rewritten with header bytes {@code header} and length field {@code length}. */
    private Path rewrite(Path dir, String header, long length, int dataDelta) throws IOException {
        Path f = dir.resolve("model.safetensors");
        byte[] all = Files.readAllBytes(Assets.model("stories260K-mha-hf").resolve("model.safetensors")); // always from the original
        long len = ByteBuffer.wrap(all, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        byte[] data = Arrays.copyOfRange(all, 8 + (int) len, all.length + dataDelta);
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        ByteBuffer out = ByteBuffer.allocate(8 + h.length + data.length).order(ByteOrder.LITTLE_ENDIAN).putLong(length).put(h).put(data);
        Files.write(f, out.array());
        return f;
    }

    private static String header(Path dir) throws IOException {
        byte[] all = Files.readAllBytes(dir.resolve("model.safetensors"));
        long len = ByteBuffer.wrap(all, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        return new String(all, 8, (int) len, StandardCharsets.UTF_8).stripTrailing();
    }

    @Test
    void headerLengthOffByOneIsRefusedEitherWay() throws IOException {
        Path d = copy("stories260K-mha-hf");
        String h = header(d);
        // One more: the first data byte becomes part of the "header"; one less: the JSON is cut.
        refused(d, rewrite(d, h, h.length() + 1, 0), "not valid JSON");
        refused(d, rewrite(d, h, h.length() - 1, 0), "not valid JSON");
        // Padding with spaces is the format's own alignment and still reads.
        rewrite(d, h + "       ", h.length() + 7, 0);
        try (Checkpoint c = Checkpoints.open(d)) { LlamaShapes.validate(c); }
    }

    @Test
    void theDataSectionMustBeCoveredExactly() throws IOException {
        Path d = copy("stories260K-mha-hf");
        String h = header(d);
        refused(d, rewrite(d, h, h.length(), 4), "trailing bytes after the last tensor");
        refused(d, rewrite(d, h, h.length(), -4), "run beyond the data section");
        // The first tensor moved off 0 (and the last shortened to keep the size): a gap at the start.
        ObjectNode j = (ObjectNode) LlamaConfig.JSON.readTree(h);
        var first = j.properties().stream().filter(e -> e.getValue().has("data_offsets") && e.getValue().get("data_offsets").get(0).asLong() == 0).findFirst().orElseThrow();
        long end = first.getValue().get("data_offsets").get(1).asLong();
        ((ObjectNode) first.getValue()).set("data_offsets", LlamaConfig.JSON.createArrayNode().add(4).add(end + 4));
        refused(d, rewrite(d, j.toString(), j.toString().length(), 0), "tensor " + first.getKey());
    }

    @Test
    void integersBeyondTwoTo63AndTrailingGarbageAreRefused() throws IOException {
        Path d = copy("stories260K-mha-hf");
        String h = header(d);
        String wrapped = h.replaceFirst("\"data_offsets\":\\s*\\[0,", "\"data_offsets\":[" + BigInteger.ONE.shiftLeft(64) + ",");
        refused(d, rewrite(d, wrapped, wrapped.length(), 0), "data_offsets must be two integers");
        String dims = h.replaceFirst("\"shape\":\\s*\\[512,", "\"shape\":[" + BigInteger.ONE.shiftLeft(64).add(BigInteger.valueOf(512)) + ",");
        refused(d, rewrite(d, dims, dims.length(), 0), "bad dimension");
        refused(d, rewrite(d, h + "x", h.length() + 1, 0), "not valid JSON");
        Files.writeString(d.resolve("config.json"), Files.readString(Assets.model("stories260K-mha-hf").resolve("config.json")) + "}");
        refused(d, d.resolve("config.json"), "not valid JSON");
    }

    @Test
    void integerWeightsAreRefusedNamingFileAndTensor() throws IOException {
        Path d = copy("stories260K-mha-hf");
        String h = header(d).replaceFirst("(\"model.norm.weight\":\\{\"dtype\":\")F32", "$1I32");
        refused(d, rewrite(d, h, h.length(), 0), "tensor model.norm.weight is I32: expected a floating-point weight");
    }

    @Test
    void aFolderFifoOrDeviceWhereAFileIsExpectedIsRefused() throws IOException, InterruptedException {
        Path d = copy("stories260K-mha-hf");
        Files.delete(d.resolve("model.safetensors"));
        Files.createDirectory(d.resolve("model.safetensors"));
        refused(d, d.resolve("model.safetensors"), "is a folder, not a file");
        Path cfg = d.resolve("config.json");
        Files.delete(cfg);
        Files.createSymbolicLink(cfg, Path.of("/dev/zero"));
        refused(d, cfg, "not a regular file");
        Files.delete(cfg);
        if (new ProcessBuilder("mkfifo", cfg.toString()).start().waitFor() == 0) refused(d, cfg, "not a regular file"); // used to block forever
    }

    // ---- config values ----

    private Path withConfig(String key, Object value) throws IOException {
        Path d = tmp.resolve("c" + Math.abs((key + value).hashCode()));
        if (!Files.exists(d)) {
            Files.createDirectories(d);
            Path src = Assets.model("stories260K-mha-hf");
            for (String f : List.of("model.safetensors", "tok512.bin")) Files.createSymbolicLink(d.resolve(f), src.resolve(f));
        }
        ObjectNode c = (ObjectNode) LlamaConfig.JSON.readTree(Assets.model("stories260K-mha-hf").resolve("config.json").toFile());
        c.set(key, LlamaConfig.JSON.valueToTree(value));
        Files.writeString(d.resolve("config.json"), c.toString());
        return d;
    }

    @Test
    void configValuesAreCheckedNotDefaulted() throws IOException {
        for (Object theta : new Object[] {"abc", List.of(1), 0, -1})
            refused(withConfig("rope_theta", theta), tmp, "'rope_theta' must be a positive number");
        refused(withConfig("rms_norm_eps", "abc"), tmp, "'rms_norm_eps' must be a positive number");
        refused(withConfig("max_position_embeddings", -1), tmp, "'max_position_embeddings' must be a positive integer");
        refused(withConfig("tie_word_embeddings", "yes"), tmp, "must be true or false");
    }

    @Test
    void layerCountsMustMatchTheStoredLayers() throws IOException {
        // 2^31-1 layers used to loop for minutes listing expected shapes; it must fail at once.
        long t0 = System.nanoTime();
        refused(withConfig("num_hidden_layers", Integer.MAX_VALUE), tmp, "num_hidden_layers 2147483647 but tensors are stored for 5 layers");
        assertTrue(System.nanoTime() - t0 < 2_000_000_000L, "fails at once");
        // Fewer layers than stored: layers 3 and 4 would be carried along unconverted.
        refused(withConfig("num_hidden_layers", 3), tmp, "is in layer 3, beyond the num_hidden_layers 3");
    }

    // ---- Meta ----

    @Test
    void metaLayerAndShardNumbersMustBeCanonical() throws IOException {
        Path d = copy("stories260K-mha-meta");
        Path pth = d.resolve("consolidated.00.pth");
        Files.copy(pth, d.resolve("consolidated.99999999999.pth"));
        refused(d, d.resolve("consolidated.99999999999.pth"), "not how Meta numbers ranks");
        Files.delete(d.resolve("consolidated.99999999999.pth"));
        // "layers.00." next to "layers.0.": the second used to replace layer 0's weight silently.
        var tensors = io.headfuse.formats.meta.TorchArchive.read(pth).tensors();
        List<MetaTestSupport.Saved> saved = new java.util.ArrayList<>();
        for (var t : tensors.values()) {
            byte[] b;
            try (Arena a = Arena.ofConfined()) { b = t.bytes(a).toArray(java.lang.foreign.ValueLayout.JAVA_BYTE); }
            saved.add(new MetaTestSupport.Saved(t.name(), t.shape(), b));
        }
        var wq = saved.stream().filter(s -> s.name().equals("layers.0.attention.wq.weight")).findFirst().orElseThrow();
        saved.add(new MetaTestSupport.Saved("layers.00.attention.wq.weight", wq.shape(), new byte[wq.data().length]));
        MetaTestSupport.writePth(pth, saved);
        refused(d, pth, "tensor layers.00.attention.wq.weight: layer number '00' is not a plain decimal");
    }

    /** Offsets of the central directory entry named {@code suffix} and of its local header. */
    private static int[] entry(byte[] z, String suffix) {
        ByteBuffer b = ByteBuffer.wrap(z).order(ByteOrder.LITTLE_ENDIAN);
        int eocd = z.length - 22;
        while (b.getInt(eocd) != 0x06054b50) eocd--;
        for (int p = b.getInt(eocd + 16), i = 0; i < (b.getShort(eocd + 10) & 0xffff); i++) {
            int n = b.getShort(p + 28) & 0xffff;
            if (new String(z, p + 46, n, StandardCharsets.UTF_8).endsWith(suffix)) return new int[] {p, b.getInt(p + 42)};
            p += 46 + n + (b.getShort(p + 30) & 0xffff) + (b.getShort(p + 32) & 0xffff);
        }
        throw new AssertionError(suffix);
    }

    @Test
    void metaZipDirectoriesThatLieAreRefused() throws IOException {
        Path d = copy("stories260K-mha-meta");
        Path pth = d.resolve("consolidated.00.pth");
        byte[] orig = Files.readAllBytes(pth);

        byte[] z = orig.clone(); // a storage's local offset pointing at data.pkl's header: data.pkl read as weights
        int[] storage = entry(z, "/data/0"), pkl = entry(z, "/data.pkl");
        ByteBuffer.wrap(z).order(ByteOrder.LITTLE_ENDIAN).putInt(storage[0] + 42, pkl[1]);
        Files.write(pth, z);
        refused(d, pth, "points at the local header of another entry");

        z = orig.clone(); // a wrong CRC in both headers of data.pkl: only its bytes can tell
        ByteBuffer b = ByteBuffer.wrap(z).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(pkl[0] + 16, b.getInt(pkl[0] + 16) ^ 1);
        b.putInt(pkl[1] + 14, b.getInt(pkl[1] + 14) ^ 1);
        Files.write(pth, z);
        refused(d, pth, "fails its CRC-32 check");

        z = orig.clone(); // a flipped weight byte: the storage's CRC, checked when its bytes are read
        int start = storage[1] + 30 + (ByteBuffer.wrap(z).order(ByteOrder.LITTLE_ENDIAN).getShort(storage[1] + 26) & 0xffff)
                + (ByteBuffer.wrap(z).order(ByteOrder.LITTLE_ENDIAN).getShort(storage[1] + 28) & 0xffff);
        z[start] ^= 0x40;
        Files.write(pth, z);
        refused(d, pth, "fail the CRC-32 check of their zip entry");

        z = orig.clone(); // sizes larger than the entry, in the central directory only, then in both headers
        b = ByteBuffer.wrap(z).order(ByteOrder.LITTLE_ENDIAN);
        for (int off : new int[] {storage[0] + 20, storage[0] + 24}) b.putInt(off, b.getInt(off) + 4096);
        Files.write(pth, z);
        refused(d, pth, "disagrees with the central directory");
        for (int off : new int[] {storage[1] + 18, storage[1] + 22}) b.putInt(off, b.getInt(off) + 4096);
        Files.write(pth, z);
        refused(d, pth, "overlap");
    }

    @Test
    void zip64ValuesNearTwoTo63AreRefused() throws IOException {
        Path d = copy("stories260K-mha-meta");
        Path pth = d.resolve("consolidated.00.pth");
        byte[] z = Files.readAllBytes(pth);
        ByteBuffer b = ByteBuffer.wrap(z).order(ByteOrder.LITTLE_ENDIAN);
        int eocd = z.length - 22;
        while (b.getInt(eocd) != 0x06054b50) eocd--;
        long count = b.getShort(eocd + 10) & 0xffff, cdSize = b.getInt(eocd + 12) & 0xffffffffL;
        for (long[] lie : new long[][] {{Long.MAX_VALUE - 5, cdSize}, {0, Long.MAX_VALUE - 5}, {Long.MAX_VALUE - 5, Long.MAX_VALUE - 5}}) {
            // A Zip64 end record with the lying offset/size, its locator, and the classic end record saturated.
            ByteBuffer rec = ByteBuffer.allocate(56 + 20).order(ByteOrder.LITTLE_ENDIAN)
                    .putInt(0x06064b50).putLong(44).putShort((short) 45).putShort((short) 45).putInt(0).putInt(0)
                    .putLong(count).putLong(count).putLong(lie[1]).putLong(lie[0])
                    .putInt(0x07064b50).putInt(0).putLong(eocd).putInt(1);
            byte[] end = Arrays.copyOfRange(z, eocd, z.length);
            ByteBuffer.wrap(end).order(ByteOrder.LITTLE_ENDIAN).putInt(16, -1);
            ByteBuffer out = ByteBuffer.allocate(eocd + rec.capacity() + end.length).put(z, 0, eocd).put(rec.array()).put(end);
            Files.write(pth, out.array());
            refused(d, pth, "central directory");
        }
        // The locator itself pointing near 2^63 used to fail with the OS's "Invalid argument".
        ByteBuffer loc = ByteBuffer.allocate(20).order(ByteOrder.LITTLE_ENDIAN).putInt(0x07064b50).putInt(0).putLong(Long.MAX_VALUE - 10).putInt(1);
        byte[] end = Arrays.copyOfRange(z, eocd, z.length);
        ByteBuffer.wrap(end).order(ByteOrder.LITTLE_ENDIAN).putInt(16, -1);
        Files.write(pth, ByteBuffer.allocate(eocd + 20 + end.length).put(z, 0, eocd).put(loc.array()).put(end).array());
        refused(d, pth, "outside the file");
    }

    @Test
    void aMappedTensorBeyondItsFileIsRefusedNamingIt() throws IOException {
        Path f = Files.write(tmp.resolve("short.bin"), new byte[16]);
        MappedTensor t = new MappedTensor("w", DType.F32, new long[] {8}, f, 0);
        CheckpointException e = assertThrows(CheckpointException.class, t::toFloats);
        assertTrue(e.getMessage().startsWith(f.toString()) && e.getMessage().contains("tensor w: bytes [0, 32) lie beyond the end of the file (16 bytes)"), e.getMessage());
        assertEquals(4, new MappedTensor("w", DType.F32, new long[] {4}, f, 0).toFloats().length);
    }

    @Test
    void metaParamsValuesAreChecked() throws IOException {
        Path d = copy("stories260K-mha-meta");
        ObjectNode orig = (ObjectNode) LlamaConfig.JSON.readTree(d.resolve("params.json").toFile());
        for (var bad : List.<Object[]>of(new Object[] {"rope_theta", 0}, new Object[] {"rope_theta", -1}, new Object[] {"norm_eps", "abc"},
                new Object[] {"n_layers", Integer.MAX_VALUE}, new Object[] {"dim", new BigInteger("18446744073709551616")})) {
            ObjectNode p = orig.deepCopy();
            p.set((String) bad[0], LlamaConfig.JSON.valueToTree(bad[1]));
            Files.writeString(d.resolve("params.json"), p.toString());
            refused(d, d.resolve(bad[0].equals("n_layers") ? "consolidated.00.pth" : "params.json"), (String) bad[0].toString().replace("n_layers", "layers.5"));
        }
    }
}
