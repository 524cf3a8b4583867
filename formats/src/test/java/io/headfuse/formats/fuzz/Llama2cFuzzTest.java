package io.headfuse.formats.fuzz;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.headfuse.formats.fuzz.FuzzHarness.Oracle;
import io.headfuse.formats.fuzz.FuzzHarness.Seen;
import io.headfuse.formats.fuzz.FuzzHarness.Special;
import io.headfuse.testkit.Assets;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Seeded fuzzing of llama2.c checkpoints, from the real stories260K (GQA) and stories260K-mha (MHA) version-0
 * files: header fields set to hostile values, the files cut or grown, weight bytes flipped, non-files, and the
 * same weights rewritten as version 1 (its own header and block order), which must read as the original.
 */
class Llama2cFuzzTest {
    private static final long SEED = 0x4c32_4321L;
    private static final String[] FIELDS = {"dim", "hidden_dim", "n_layers", "n_heads", "n_kv_heads", "vocab_size", "seq_len"};

    @TempDir Path tmp;

    @Test
    void mutatedLlama2cFilesReadCorrectlyOrFailNamingTheFile() throws IOException {
        Mutations mut = new Mutations(new Random(SEED));
        FuzzHarness h = new FuzzHarness("llama2.c .bin");
        FuzzHarness v1 = new FuzzHarness("llama2.c .bin rewritten as version 1");
        FuzzHarness specials = new FuzzHarness("llama2.c non-files");
        int n = 0;
        for (String model : List.of("stories260K-mha-llama2c/stories260K-mha.bin", "stories260K/stories260K.bin")) {
            Path src = Assets.require("models/" + model);
            Path base = Files.createDirectories(tmp.resolve("base" + n));
            Files.copy(src, base.resolve("model.bin"));
            Files.copy(src.resolveSibling("tok512.bin"), base.resolve("tok512.bin"));
            Map<String, Seen> original = FuzzHarness.readEverything(base);
            byte[] bin = Files.readAllBytes(base.resolve("model.bin"));
            for (int i = 0; i < 60; i++, n++) {
                Path dir = FuzzHarness.caseDir(tmp, "l" + n, base, "model.bin");
                byte[] b = bin.clone();
                ByteBuffer bb = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
                String what;
                Oracle oracle = Oracle.SAME_SHAPES; // a different head count permutes the same bytes differently
                switch (mut.nextInt(6)) {
                    case 0, 1, 2 -> {
                        int f = mut.nextInt(FIELDS.length), old = bb.getInt(4 * f);
                        int v = mut.pick(List.of(0, -1, 1, 2, 3, 4, 7, 8, 16, Integer.MAX_VALUE, Integer.MIN_VALUE, old * 2, old / 2, old + 1, -old));
                        bb.putInt(4 * f, v);
                        what = FIELDS[f] + " " + old + " -> " + v;
                    }
                    case 3 -> { b = Arrays.copyOf(b, mut.nextInt(b.length)); what = "truncated to " + b.length; }
                    case 4 -> { b = Arrays.copyOf(b, b.length + 1 + mut.nextInt(64)); what = "bytes appended"; }
                    default -> { b = mut.flip(b, 1 + mut.nextInt(4)); what = "bytes flipped (a weight, or a header field)"; }
                }
                Files.write(dir.resolve("model.bin"), b);
                // Opened as the folder, and as the file itself: both must behave the same.
                h.run("l" + n + " (" + model + ": " + what + ")", dir, mut.chance(0.5) ? dir : dir.resolve("model.bin"), original, oracle);
                FuzzHarness.deleteTree(dir);
            }
            for (int i = 0; i < 12; i++, n++) {
                Path dir = FuzzHarness.caseDir(tmp, "v" + n, base, "model.bin");
                byte[] b = asVersion1(bin);
                String what = "valid";
                ByteBuffer bb = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
                switch (i % 4) {
                    case 1 -> { int v = mut.pick(List.of(0, 2, 3, -1, 0x616b3432)); bb.putInt(4, v); what = "version " + v; }
                    case 2 -> { int f = 2 + mut.nextInt(FIELDS.length); int v = mut.pick(List.of(0, -1, Integer.MAX_VALUE, 1024)); bb.putInt(4 * f, v); what = FIELDS[f - 2] + " -> " + v; }
                    case 3 -> { b[36] = (byte) (b[36] == 0 ? 1 : 0); what = "shared-classifier flag flipped"; }
                    default -> { }
                }
                Files.write(dir.resolve("model.bin"), b);
                v1.run("v" + n + " (" + model + " as v1: " + what + ")", dir, dir.resolve("model.bin"), original, Oracle.SAME_BYTES);
                FuzzHarness.deleteTree(dir);
            }
            for (Special kind : Special.values()) {
                Path dir = FuzzHarness.caseDir(tmp, "s" + n, base, "model.bin");
                if (FuzzHarness.makeSpecial(dir.resolve("model.bin"), kind)) specials.run("s" + n + " (model.bin as " + kind + ")", dir, dir.resolve("model.bin"), original, Oracle.SAME_BYTES);
                FuzzHarness.deleteTree(dir);
                n++;
            }
        }
        int total = h.report() + v1.report() + specials.report();
        System.out.printf("fuzz %-52s cases %5d%n", "llama2.c total", total);
        assertTrue(total >= 100, "at least 100 llama2.c cases: " + total);
        assertTrue(v1.accepted() >= 2 && h.refused() > 0 && specials.refused() == specials.cases(), "valid v1 files read, bad ones refused");
    }

    /**
     * The version-0 file {@code v0} written as export.py's version 1: magic "ak42", version, the seven numbers,
     * the shared-classifier flag, padded to 256 bytes; then the norms first and no RoPE tables.
     */
    private static byte[] asVersion1(byte[] v0) {
        ByteBuffer h = ByteBuffer.wrap(v0).order(ByteOrder.LITTLE_ENDIAN);
        int dim = h.getInt(0), hidden = h.getInt(4), layers = h.getInt(8), heads = h.getInt(12), kv = h.getInt(16), vocab = h.getInt(20), seq = h.getInt(24);
        boolean shared = vocab > 0;
        vocab = Math.abs(vocab);
        long hs = dim / heads, kvDim = kv * hs;
        long[] sizes = { // v0 order: embed, rms_att, wq, wk, wv, wo, rms_ffn, w1, w2, w3, rms_final, freq_real, freq_imag, [wcls]
            (long) vocab * dim, (long) layers * dim, (long) layers * dim * dim, layers * kvDim * dim, layers * kvDim * dim, (long) layers * dim * dim,
            (long) layers * dim, (long) layers * hidden * dim, (long) layers * hidden * dim, (long) layers * hidden * dim, dim, seq * hs / 2, seq * hs / 2,
            shared ? 0 : (long) vocab * dim};
        long[] at = new long[sizes.length];
        long pos = 28;
        for (int i = 0; i < sizes.length; i++) { at[i] = pos; pos += sizes[i] * 4; }
        ByteBuffer header = ByteBuffer.allocate(256).order(ByteOrder.LITTLE_ENDIAN)
                .putInt(0x616b3432).putInt(1).putInt(dim).putInt(hidden).putInt(layers).putInt(heads).putInt(kv).putInt(vocab).putInt(seq);
        header.put((byte) (shared ? 1 : 0));
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(header.array());
        for (int block : new int[] {1, 6, 10, 0, 2, 3, 4, 5, 7, 8, 9, 13}) out.write(v0, (int) at[block], (int) sizes[block] * 4);
        return out.toByteArray();
    }
}
