package io.headfuse.formats.fuzz;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.headfuse.formats.CheckpointException;
import io.headfuse.formats.fuzz.FuzzHarness.Oracle;
import io.headfuse.formats.fuzz.FuzzHarness.Seen;
import io.headfuse.formats.fuzz.FuzzHarness.Special;
import io.headfuse.formats.meta.MetaTestSupport;
import io.headfuse.formats.meta.pickle.Unpickler;
import io.headfuse.testkit.Assets;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Seeded fuzzing of Meta checkpoints, from the real stories260K-mha-meta: params.json edits, flipped and cut
 * pickles, state dicts built with one thing wrong (aliasing keys, shapes, offsets, storage types), hostile pickles
 * (deep nesting, self-reference, containers as keys, memo floods, live payloads), and zip structures that lie
 * (CRCs, sizes, offsets into data.pkl, Zip64 values near 2^63). Every case reads as the original or is refused
 * naming the file; no pickle code ever runs.
 */
class MetaFuzzTest {
    private static final long SEED = 0x4d45_5441L;
    private static final String PTH = "consolidated.00.pth", PREFIX = "consolidated.00";
    private static final List<String> PARAM_KEYS = List.of("dim", "n_layers", "n_heads", "n_kv_heads", "vocab_size", "multiple_of",
            "ffn_dim_multiplier", "norm_eps", "rope_theta", "max_seq_len", "use_scaled_rope");

    @TempDir Path tmp;

    private final Path marker = Path.of(System.getProperty("java.io.tmpdir"), "headfuse-fuzz-pwned-" + ProcessHandle.current().pid());
    private Mutations mut;
    private Path base;
    private Map<String, Seen> original;
    private byte[] pickle;
    private final Map<String, byte[]> storages = new LinkedHashMap<>();
    /** The state dict: name, shape and storage key of each tensor, in the original order. */
    private final List<Object[]> dict = new ArrayList<>();

    @Test
    void mutatedArchivesPicklesAndParamsReadCorrectlyOrFailNamingTheFile() throws IOException {
        base = Files.createDirectories(tmp.resolve("meta"));
        try (var files = Files.list(Assets.model("stories260K-mha-meta"))) {
            for (Path f : files.toList()) Files.copy(f, base.resolve(f.getFileName()));
        }
        original = FuzzHarness.readEverything(base);
        try (ZipFile zip = new ZipFile(base.resolve(PTH).toFile())) {
            for (ZipEntry e : java.util.Collections.list(zip.entries())) {
                byte[] b = zip.getInputStream(e).readAllBytes();
                String rel = e.getName().substring(PREFIX.length() + 1);
                if (rel.equals("data.pkl")) pickle = b;
                else if (rel.startsWith("data/")) storages.put(rel, b);
            }
        }
        var archive = io.headfuse.formats.meta.TorchArchive.read(base.resolve(PTH));
        int key = 0;
        for (var t : archive.tensors().values()) dict.add(new Object[] {t.name(), t.shape(), key++});
        byte[] pthBytes = Files.readAllBytes(base.resolve(PTH));
        ObjectNode params = (ObjectNode) Mutations.JSON.readTree(base.resolve("params.json").toFile());
        mut = new Mutations(new Random(SEED));
        Files.deleteIfExists(marker);

        FuzzHarness paramsH = new FuzzHarness("Meta params.json");
        for (int i = 0; i < 70; i++) {
            Path dir = FuzzHarness.caseDir(tmp, "p" + i, base, "params.json");
            ObjectNode p = params.deepCopy();
            String what;
            if (mut.chance(0.7)) what = mut.mutateObject(p, PARAM_KEYS);
            else { Files.write(dir.resolve("params.json"), mut.mutateText(p)); what = mut.lastText(); p = null; }
            if (p != null) Files.write(dir.resolve("params.json"), p.toString().getBytes(StandardCharsets.UTF_8));
            paramsH.run("p" + i + " (" + what + ")", dir, dir, original, Oracle.SAME_SHAPES); // n_heads changes the RoPE permutation
            FuzzHarness.deleteTree(dir);
        }
        FuzzHarness pickles = new FuzzHarness("Meta data.pkl (bytes flipped, cut, inserted)");
        for (int i = 0; i < 90; i++) {
            Path dir = FuzzHarness.caseDir(tmp, "k" + i, base, PTH);
            String what = switch (mut.nextInt(4)) {
                case 0 -> { writePth(dir, mut.flip(pickle, 1 + mut.nextInt(3))); yield "flipped"; }
                case 1 -> { writePth(dir, Arrays.copyOf(pickle, mut.nextInt(pickle.length))); yield "truncated"; }
                case 2 -> { int at = mut.nextInt(pickle.length); writePth(dir, splice(pickle, at, 0, new byte[] {(byte) mut.nextInt(256)})); yield "byte inserted at " + at; }
                default -> { int at = mut.nextInt(pickle.length); writePth(dir, splice(pickle, at, 1, new byte[0])); yield "byte deleted at " + at; }
            };
            pickles.run("k" + i + " (" + what + ")", dir, dir, original, Oracle.SAME_SHAPES); // a flipped storage key may pick another same-sized storage
            FuzzHarness.deleteTree(dir);
        }
        FuzzHarness crafted = new FuzzHarness("Meta state dicts with one thing wrong");
        for (int i = 0; i < 60; i++) {
            Path dir = FuzzHarness.caseDir(tmp, "d" + i, base, PTH);
            String what = writeCraftedDict(dir, i % 14); // every kind, several times
            boolean valid = what.contains("harmless") || what.endsWith("another tensor's storage");
            if (crafted.run("d" + i + " (" + what + ")", dir, dir, original, what.endsWith("another tensor's storage") ? Oracle.SAME_SHAPES : Oracle.SAME_BYTES))
                assertTrue(valid, "d" + i + " (" + what + ") was accepted");
            FuzzHarness.deleteTree(dir);
        }
        FuzzHarness hostile = new FuzzHarness("Meta hostile pickles (nesting, keys, floods, payloads)");
        List<String> hostileKinds = List.of("deep lists", "deep tuples", "deep dicts", "marks", "self-reference as key", "list as key", "tuple as key",
                "dict as key", "self-reference as value", "memo flood", "dict flood", "os.system", "builtins.eval", "subprocess.Popen", "STACK_GLOBAL via memo",
                "INST", "OBJ", "NEWOBJ", "EXT1", "torch lookalike", "posix.system", "nt.system");
        for (int i = 0; i < hostileKinds.size() * 2; i++) {
            String kind = hostileKinds.get(i % hostileKinds.size());
            Path dir = FuzzHarness.caseDir(tmp, "a" + i, base, PTH);
            writePth(dir, hostilePickle(kind, i >= hostileKinds.size()));
            hostile.run("a" + i + " (" + kind + ")", dir, dir, original, Oracle.SAME_BYTES);
            FuzzHarness.deleteTree(dir);
        }
        FuzzHarness zips = new FuzzHarness("Meta zip structure (CRC, sizes, offsets, Zip64)");
        for (int i = 0; i < 110; i++) {
            Path dir = FuzzHarness.caseDir(tmp, "z" + i, base, PTH);
            byte[] z = pthBytes.clone();
            String what = mutateZip(z, dir.resolve(PTH));
            zips.run("z" + i + " (" + what + ")", dir, dir, original, Oracle.SAME_BYTES);
            FuzzHarness.deleteTree(dir);
        }
        FuzzHarness specials = new FuzzHarness("Meta non-files and shard names");
        int s = 0;
        for (String file : List.of(PTH, "params.json"))
            for (Special kind : Special.values()) {
                Path dir = FuzzHarness.caseDir(tmp, "s" + s, base, file);
                if (FuzzHarness.makeSpecial(dir.resolve(file), kind)) specials.run("s" + s + " (" + file + " as " + kind + ")", dir, dir, original, Oracle.SAME_BYTES);
                FuzzHarness.deleteTree(dir);
                s++;
            }
        for (String extra : List.of("consolidated.99999999999.pth", "consolidated.000.pth", "consolidated.01.pth", "consolidated.1.pth", "consolidated.02.pth")) {
            Path dir = FuzzHarness.caseDir(tmp, "s" + s, base);
            Files.createSymbolicLink(dir.resolve(extra), base.resolve(PTH));
            specials.run("s" + s + " (extra shard " + extra + ")", dir, dir, original, Oracle.SAME_BYTES);
            FuzzHarness.deleteTree(dir);
            s++;
        }
        int floodCases = runFloods();

        int total = 0;
        for (FuzzHarness h : List.of(paramsH, pickles, crafted, hostile, zips, specials)) total += h.report();
        System.out.printf("fuzz %-40s cases %5d  refused %5d%n", "pickles of 32 MiB (Unpickler alone)", floodCases, floodCases);
        total += floodCases;
        System.out.printf("fuzz %-40s cases %5d%n", "Meta total (archives, pickles, params)", total);
        assertTrue(total >= 300, "at least 300 Meta cases: " + total);
        assertFalse(Files.exists(marker), "no pickle code ran");
        assertTrue(hostile.accepted() == 0, "every hostile pickle is refused");
        assertTrue(paramsH.accepted() > 0 && zips.refused() > 0, "both outcomes seen");
    }

    // ---- writing cases ----

    private void writePth(Path dir, byte[] pkl) throws IOException {
        MetaTestSupport.writeZip(dir.resolve(PTH), PREFIX, pkl, storages);
    }

    private static byte[] splice(byte[] b, int at, int remove, byte[] insert) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(b, 0, at);
        out.writeBytes(insert);
        out.write(b, at + remove, b.length - at - remove);
        return out.toByteArray();
    }

    /** The original state dict rebuilt with one entry changed. */
    private String writeCraftedDict(Path dir, int kind) throws IOException {
        int victim = mut.nextInt(dict.size());
        // Renaming layers and reversing strides only mean something on a 2-D layer weight.
        while ((kind == 0 || kind == 1 || kind == 5) && !(((String) dict.get(victim)[0]).startsWith("layers.") && ((long[]) dict.get(victim)[1]).length == 2))
            victim = mut.nextInt(dict.size());
        String victimName = (String) dict.get(victim)[0];
        P p = new P().proto().global("collections", "OrderedDict").op(')').op('R').op('(');
        String what = victimName + ": ";
        for (int i = 0; i < dict.size(); i++) {
            String name = (String) dict.get(i)[0];
            long[] shape = (long[]) dict.get(i)[1];
            int key = (int) dict.get(i)[2];
            long numel = storages.get("data/" + key).length / 4;
            if (i != victim) { p.str(name).tensor("FloatStorage", String.valueOf(key), numel, 0, shape, stride(shape)); continue; }
            switch (kind) {
                case 0 -> { String alias = name.replaceFirst("layers\\.(\\d+)\\.", "layers.0$1."); p.str(name).tensor("FloatStorage", "" + key, numel, 0, shape, stride(shape)).str(alias).tensor("FloatStorage", "" + key, numel, 0, shape, stride(shape)); what += "also as " + alias; }
                case 1 -> { p.str(name.replaceFirst("layers\\.(\\d+)\\.", "layers.99999999999.")).tensor("FloatStorage", "" + key, numel, 0, shape, stride(shape)); what += "layer 99999999999"; }
                case 2 -> { p.str(name).tensor("FloatStorage", "" + key, numel, 0, new long[0], new long[0]); what += "shape ()"; }
                case 3 -> { p.str(name).tensor("FloatStorage", "" + key, numel, 0, new long[] {1L << 40, 1L << 40}, new long[] {1L << 40, 1}); what += "shape 2^40 x 2^40"; }
                case 4 -> { long off = mut.pick(List.of(1L, numel, 1L << 62, Long.MAX_VALUE)); p.str(name).tensor("FloatStorage", "" + key, numel, off, shape, stride(shape)); what += "storage offset " + off; }
                case 5 -> { p.str(name).tensor("FloatStorage", "" + key, numel, 0, shape, reverse(stride(shape))); what += "strides reversed"; }
                case 6 -> { p.str(name).tensor(mut.pick(List.of("IntStorage", "LongStorage", "ByteStorage", "BoolStorage")), "" + key, numel, 0, shape, stride(shape)); what += "an integer storage type"; }
                case 7 -> { p.str(name).tensor("FloatStorage", "" + key, numel, 0, shape, stride(shape)).str("rope.freqs").tensor("FloatStorage", "" + key, numel, 0, new long[] {numel}, new long[] {1}); what += "rope.freqs added (harmless)"; }
                case 8 -> what += "missing";
                case 9 -> { p.str(name).integer(7); what += "not a tensor"; }
                case 10 -> { p.str(name).tensor("FloatStorage", "" + ((key + 1) % dict.size()), numel, 0, shape, stride(shape)); what += "another tensor's storage"; }
                case 11 -> { p.str(name).tensor("FloatStorage", "missing", numel, 0, shape, stride(shape)); what += "a storage that is not in the archive"; }
                case 12 -> { p.str(name.replace("weight", "bias")).tensor("FloatStorage", "" + key, numel, 0, shape, stride(shape)); what += "renamed to an unknown weight"; }
                default -> { p.str(name).tensor("FloatStorage", "" + key, numel, 0, shape, stride(shape)); what += "unchanged (harmless)"; }
            }
        }
        writePth(dir, p.op('u').op('.').bytes());
        return what; // another tensor's storage is a valid file when both have the same size: it may then read other bytes

    }

    /** Pickles no torch.save writes, each built to break a naive unpickler. {@code big}: the larger variant. */
    private byte[] hostilePickle(String kind, boolean big) {
        int depth = big ? 120_000 : 100_000;
        P p = new P().proto();
        String cmd = "touch " + marker;
        switch (kind) {
            case "deep lists" -> { for (int i = 0; i < depth; i++) p.op(']'); for (int i = 0; i < depth - 1; i++) p.op('a'); }
            case "deep tuples" -> { p.op(')'); for (int i = 0; i < depth; i++) p.op(0x85); }
            case "deep dicts" -> { for (int i = 0; i < depth; i++) p.op('}'); for (int i = 1; i < depth; i++) p.str("k").op(0x94).op('0').op('s'); }
            case "marks" -> { for (int i = 0; i < depth; i++) p.op('('); }
            case "self-reference as key" -> p.op('}').op(']').op('2').op('2').op('a').str("v").op('s');
            case "list as key" -> p.op('}').op(']').str("v").op('s');
            case "tuple as key" -> { p.op('}'); for (int i = 0; i < (big ? 50_000 : 1000); i++) p.op(')').op(0x85).op(0x94).op('0'); p.op(')').str("v").op('s'); }
            case "dict as key" -> p.op('}').op('}').str("v").op('s');
            case "self-reference as value" -> p.op('}').str("model").op(']').op('2').op('2').op('a').op('s');
            case "memo flood" -> { for (int i = 0; i < (big ? 1_200_000 : 1_010_000); i++) p.op(']').op(0x94).op('0'); }
            case "dict flood" -> { p.op('}'); for (int i = 0; i < (big ? 2_000_000 : 1_400_000); i++) p.op('K').op(i & 0xff).op('N').op('s'); }
            case "os.system" -> p.global("os", "system").str(cmd).op(0x85).op('R');
            case "builtins.eval" -> p.global("builtins", "eval").str("__import__('os').system('" + cmd + "')").op(0x85).op('R');
            case "subprocess.Popen" -> p.global("subprocess", "Popen").str(cmd).op(0x85).op('R');
            case "STACK_GLOBAL via memo" -> p.str("os").op(0x94).str("system").op(0x94).op('h').op(0).op('h').op(1).op(0x93).str(cmd).op(0x85).op('R');
            case "INST" -> p.op('(').str(cmd).op('i').raw("os\nsystem\n");
            case "OBJ" -> p.global("os", "system").op('(').op('0').op('(').str(cmd).op('o');
            case "NEWOBJ" -> p.global("subprocess", "Popen").str(cmd).op(0x85).op(0x81);
            case "EXT1" -> p.op(0x82).op(1);
            case "torch lookalike" -> p.global("torch._utils.os", "system").str(cmd).op(0x85).op('R');
            case "posix.system" -> p.global("posix", "system").str(cmd).op(0x85).op('R');
            default -> p.global("nt", "system").str(cmd).op(0x85).op('R');
        }
        return p.op('.').bytes();
    }

    /** 32 MiB opcode floods straight into the Unpickler: each must fail fast with its bounds, not exhaust the heap. */
    private int runFloods() {
        int n = 0;
        for (String unit : List.of("]\u0094", "}\u0094", "]\u00940", "]]a", ")\u0094", "]\u0094\u0094", "(", "}}s")) {
            byte[] u = unit.getBytes(StandardCharsets.ISO_8859_1);
            byte[] data = new byte[32 << 20];
            data[0] = (byte) 0x80;
            data[1] = 2;
            for (int i = 2; i + u.length <= data.length; i += u.length) System.arraycopy(u, 0, data, i, u.length);
            CheckpointException e = assertTimeoutPreemptively(Duration.ofSeconds(10),
                    () -> assertThrows(CheckpointException.class, () -> Unpickler.load(data, tmp.resolve("flood.pth"), "archive/data.pkl")),
                    () -> "flood of " + unit);
            assertTrue(e.getMessage().startsWith(tmp.resolve("flood.pth").toString()), e.getMessage());
            n++;
        }
        return n;
    }

    // ---- zip structure ----

    /** Central directory entry offsets and the local header offsets they point to, parsed from the original. */
    private record Cen(int at, String name, int local) {}

    private static List<Cen> central(byte[] z) {
        ByteBuffer b = ByteBuffer.wrap(z).order(ByteOrder.LITTLE_ENDIAN);
        int eocd = z.length - 22;
        while (b.getInt(eocd) != 0x06054b50) eocd--;
        int count = b.getShort(eocd + 10) & 0xffff, p = b.getInt(eocd + 16);
        List<Cen> out = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            int nameLen = b.getShort(p + 28) & 0xffff, extra = b.getShort(p + 30) & 0xffff, comment = b.getShort(p + 32) & 0xffff;
            out.add(new Cen(p, new String(z, p + 46, nameLen, StandardCharsets.UTF_8), b.getInt(p + 42)));
            p += 46 + nameLen + extra + comment;
        }
        return out;
    }

    private String mutateZip(byte[] z, Path out) throws IOException {
        ByteBuffer b = ByteBuffer.wrap(z).order(ByteOrder.LITTLE_ENDIAN);
        List<Cen> cen = central(z);
        Cen pkl = cen.stream().filter(c -> c.name().endsWith("data.pkl")).findFirst().orElseThrow();
        List<Cen> data = cen.stream().filter(c -> c.name().contains("/data/")).toList();
        Cen c = mut.chance(0.3) ? pkl : mut.pick(data);
        int eocd = z.length - 22;
        while (b.getInt(eocd) != 0x06054b50) eocd--;
        String what = c.name() + ": ";
        switch (mut.nextInt(13)) {
            case 0 -> { b.putInt(c.at() + 16, b.getInt(c.at() + 16) ^ (1 << mut.nextInt(32))); what += "central CRC"; }
            case 1 -> { int crc = b.getInt(c.at() + 16) ^ (1 << mut.nextInt(32)); b.putInt(c.at() + 16, crc); b.putInt(c.local() + 14, crc); what += "CRC in both headers"; }
            case 2 -> { int d = mut.pick(List.of(-4, -1, 1, 4, 4096)); b.putInt(c.at() + 20, b.getInt(c.at() + 20) + d); b.putInt(c.at() + 24, b.getInt(c.at() + 24) + d); what += "central sizes " + d; }
            case 3 -> { int d = mut.pick(List.of(-4, 4, 4096)); for (int off : new int[] {c.at() + 20, c.at() + 24, c.local() + 18, c.local() + 22}) b.putInt(off, b.getInt(off) + d); what += "sizes in both headers " + d; }
            case 4 -> { b.putInt(c.at() + 42, pkl.local()); what += "local offset -> data.pkl's"; }
            case 5 -> { b.putInt(c.at() + 42, mut.pick(List.of(-1, 0x7fffffff, c.local() + 1, 0))); what += "local offset " + Integer.toUnsignedString(b.getInt(c.at() + 42)); }
            case 6 -> { b.putInt(eocd + 16, b.getInt(eocd + 16) + mut.pick(List.of(-1, 1, 46))); what = "central directory offset"; }
            case 7 -> { b.putShort(eocd + 10, (short) (int) mut.pick(List.of(0, 1, 0xffff, (b.getShort(eocd + 10) & 0xffff) + 1))); what = "entry count " + (b.getShort(eocd + 10) & 0xffff); }
            case 8 -> { Files.write(out, zip64(z, eocd, mut.pick(List.of(Long.MAX_VALUE - 10, Long.MAX_VALUE, (1L << 63) - 56, -1L)))); return "Zip64 locator near 2^63"; }
            case 9 -> { int at = z.length / 2 + mut.nextInt(z.length / 2 - 64); z[at] ^= (byte) (1 + mut.nextInt(255)); what = "a byte flipped at " + at; }
            case 10 -> { // a weight byte flipped: only the storage's CRC can tell
                Cen d = mut.pick(data);
                int start = d.local() + 30 + (b.getShort(d.local() + 26) & 0xffff) + (b.getShort(d.local() + 28) & 0xffff);
                z[start + mut.nextInt(16)] ^= 0x40;
                what = d.name() + ": a weight byte flipped";
            }
            case 11 -> { Files.write(out, Arrays.copyOf(z, mut.nextInt(z.length))); return "truncated"; }
            default -> { Files.write(out, splice(z, z.length, 0, "garbage".getBytes(StandardCharsets.US_ASCII))); return "bytes after the end record"; }
        }
        Files.write(out, z);
        return what;
    }

    /** The archive with a Zip64 locator before its end record, pointing at {@code offset}, and the end record saturated. */
    private static byte[] zip64(byte[] z, int eocd, long offset) {
        ByteBuffer loc = ByteBuffer.allocate(20).order(ByteOrder.LITTLE_ENDIAN).putInt(0x07064b50).putInt(0).putLong(offset).putInt(1);
        byte[] end = Arrays.copyOfRange(z, eocd, z.length);
        ByteBuffer.wrap(end).order(ByteOrder.LITTLE_ENDIAN).putInt(16, -1);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(z, 0, eocd);
        out.writeBytes(loc.array());
        out.writeBytes(end);
        return out.toByteArray();
    }

    private static long[] stride(long[] shape) {
        long[] s = new long[shape.length];
        long acc = 1;
        for (int i = shape.length - 1; i >= 0; i--) { s[i] = acc; acc *= shape[i]; }
        return s;
    }

    private static long[] reverse(long[] a) {
        long[] r = new long[a.length];
        for (int i = 0; i < a.length; i++) r[i] = a[a.length - 1 - i];
        return r;
    }

    /** Pickle opcodes with 64-bit integers (LONG1), for offsets and shapes past 2^31. */
    private static final class P {
        private final ByteArrayOutputStream out = new ByteArrayOutputStream();

        P proto() { out.write(0x80); out.write(2); return this; }
        P op(int o) { out.write(o); return this; }
        P raw(String s) { out.writeBytes(s.getBytes(StandardCharsets.UTF_8)); return this; }
        P global(String module, String name) { return op('c').raw(module + "\n" + name + "\n"); }

        P str(String s) {
            byte[] b = s.getBytes(StandardCharsets.UTF_8);
            out.write('X');
            out.writeBytes(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(b.length).array());
            out.writeBytes(b);
            return this;
        }

        /** LONG1 with 8 little-endian bytes. */
        P integer(long v) {
            out.write(0x8a);
            out.write(8);
            out.writeBytes(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(v).array());
            return this;
        }

        P ints(long... vs) {
            op('(');
            for (long v : vs) integer(v);
            return op('t');
        }

        P tensor(String storageType, String key, long storageNumel, long offset, long[] shape, long[] stride) {
            global("torch._utils", "_rebuild_tensor_v2").op('(');
            op('(').str("storage").global("torch", storageType).str(key).str("cpu").integer(storageNumel).op('t').op('Q');
            integer(offset).ints(shape).ints(stride).op(0x89).global("collections", "OrderedDict").op(')').op('R');
            return op('t').op('R');
        }

        byte[] bytes() { return out.toByteArray(); }
    }
}
