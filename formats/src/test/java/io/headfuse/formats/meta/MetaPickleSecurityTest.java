package io.headfuse.formats.meta;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.headfuse.formats.CheckpointException;
import io.headfuse.formats.meta.MetaTestSupport.Pickle;
import io.headfuse.formats.meta.pickle.TensorRef;
import io.headfuse.formats.meta.pickle.Unpickler;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Pickles that would run code under Python's unpickler are refused, naming the file and the global. */
class MetaPickleSecurityTest {
    @TempDir Path tmp;

    private final Path marker = Path.of(System.getProperty("java.io.tmpdir"), "headfuse-pwned-" + ProcessHandle.current().pid());

    /** {@code module.name("touch marker")} via GLOBAL + REDUCE, as the classic exploit pickles are built. */
    private byte[] callPickle(String module, String name) {
        return new Pickle().proto().global(module, name).str("touch " + marker).op(0x85).op('R').op('.').bytes();
    }

    private CheckpointException refused(String archive, byte[] pickle) throws IOException {
        Path pth = tmp.resolve(archive + ".pth");
        MetaTestSupport.writeZip(pth, "archive", pickle, Map.of());
        CheckpointException e = assertThrows(CheckpointException.class, () -> TorchArchive.read(pth));
        assertTrue(e.getMessage().startsWith(pth.toString()), "names the file: " + e.getMessage());
        assertFalse(Files.exists(marker), "nothing ran");
        return e;
    }

    @Test
    void osSystemIsRefused() throws IOException {
        CheckpointException e = refused("os", callPickle("os", "system"));
        assertTrue(e.getMessage().contains("refusing pickle global 'os.system'"), e.getMessage());
        assertTrue(e.getMessage().contains("archive/data.pkl"), e.getMessage());
    }

    @Test
    void posixSystemIsRefused() throws IOException {
        assertTrue(refused("posix", callPickle("posix", "system")).getMessage().contains("'posix.system'"));
    }

    @Test
    void builtinsEvalIsRefused() throws IOException {
        assertTrue(refused("eval", callPickle("builtins", "eval")).getMessage().contains("'builtins.eval'"));
    }

    @Test
    void stackGlobalIsCheckedToo() throws IOException {
        byte[] p = new Pickle().proto().str("subprocess").str("Popen").op(0x93).str("id").op(0x85).op('R').op('.').bytes();
        assertTrue(refused("popen", p).getMessage().contains("'subprocess.Popen'"));
    }

    @Test
    void aGlobalHiddenInsideAStateDictIsRefused() throws IOException {
        byte[] p = new Pickle().proto().global("collections", "OrderedDict").op(')').op('R').op('(')
                .str("norm.weight").tensor("FloatStorage", "0", 4, 0, new long[] {4}, new long[] {1})
                .str("evil").global("os", "system").str("id").op(0x85).op('R')
                .op('u').op('.').bytes();
        assertTrue(refused("hidden", p).getMessage().contains("'os.system'"));
    }

    @Test
    void objectBuildingOpcodesAreRefused() throws IOException {
        // INST names a class inline ("ios\nsystem\n"): it is not a GLOBAL, so it must be refused as an opcode.
        byte[] inst = new Pickle().proto().op('(').str("id").op('i').bytes();
        byte[] withName = new byte[inst.length + "os\nsystem\n".length() + 1];
        System.arraycopy(inst, 0, withName, 0, inst.length);
        System.arraycopy("os\nsystem\n.".getBytes(), 0, withName, inst.length, "os\nsystem\n.".length());
        assertTrue(refused("inst", withName).getMessage().contains("unsupported pickle opcode 0x69 ('i')"));
    }

    @Test
    void storageTypesCannotBeCalled() throws IOException {
        byte[] p = new Pickle().proto().global("torch", "FloatStorage").op(')').op('R').op('.').bytes();
        assertTrue(refused("storage", p).getMessage().contains("torch.FloatStorage may only tag a storage in a persistent id"));
    }

    @Test
    void malformedPicklesFailCleanly() {
        Path f = Path.of("x.pth");
        assertTrue(assertThrows(CheckpointException.class, () -> Unpickler.load(new byte[] {(byte) 0x80, 2, 'N'}, f, "a/data.pkl"))
                .getMessage().contains("ends without a STOP"));
        assertTrue(assertThrows(CheckpointException.class, () -> Unpickler.load(new byte[] {'h', 3, '.'}, f, "a/data.pkl"))
                .getMessage().contains("memo slot 3 read before it was written"));
        assertTrue(assertThrows(CheckpointException.class, () -> Unpickler.load(new byte[] {'X', (byte) 0xff, (byte) 0xff, (byte) 0xff, 0x7f}, f, "a/data.pkl"))
                .getMessage().contains("runs past the end"));
        assertTrue(assertThrows(CheckpointException.class, () -> Unpickler.load(new byte[] {'u', '.'}, f, "a/data.pkl"))
                .getMessage().contains("no MARK"));
    }

    @Test
    void torchSaveOpcodesRoundTrip() throws CheckpointException {
        byte[] p = new Pickle().proto().global("collections", "OrderedDict").op(')').op('R').op('(')
                .str("w").global("torch._utils", "_rebuild_parameter").op('(')
                .tensor("BFloat16Storage", "3", 12, 2, new long[] {2, 5}, new long[] {5, 1}).op(0x88).global("collections", "OrderedDict").op(')').op('R')
                .op('t').op('R').op('u').op('.').bytes();
        Object root = Unpickler.load(p, Path.of("p.pth"), "p/data.pkl");
        TensorRef t = (TensorRef) ((Map<?, ?>) root).get("w");
        assertEquals("3", t.storage().key());
        assertEquals(io.headfuse.formats.DType.BF16, t.storage().dtype());
        assertEquals(2, t.offset());
        assertEquals(10, t.numel());
        assertTrue(t.isContiguous());
    }

    private static CheckpointException refusedFast(byte[] pickle) {
        Path f = Path.of("h.pth");
        return org.junit.jupiter.api.Assertions.assertTimeoutPreemptively(java.time.Duration.ofSeconds(10),
                () -> assertThrows(CheckpointException.class, () -> Unpickler.load(pickle, f, "h/data.pkl")));
    }

    private static byte[] repeat(String unit, int times) {
        return (new String(new byte[] {(byte) 0x80, 2}, java.nio.charset.StandardCharsets.ISO_8859_1) + unit.repeat(times) + ".")
                .getBytes(java.nio.charset.StandardCharsets.ISO_8859_1);
    }

    @Test
    void containersAsDictKeysAreRefusedBeforeTheyAreHashed() {
        // A self-containing list as a key: hashing it recursed until StackOverflowError.
        assertTrue(refusedFast(new Pickle().proto().op('}').op(']').op('2').op('2').op('a').str("v").op('s').op('.').bytes())
                .getMessage().contains("dict key is a list"));
        assertTrue(refusedFast(new Pickle().proto().op('}').op(')').str("v").op('s').op('.').bytes()).getMessage().contains("dict key is a tuple"));
        assertTrue(refusedFast(new Pickle().proto().op('}').op('(').op('}').str("v").op('u').op('.').bytes()).getMessage().contains("dict key is a dict"));
    }

    @Test
    void deepNestingAndOpcodeFloodsHitTheBoundsNotTheHeap() {
        // 100k nested lists (each pushed, then appended into the one below): the stack bound, not a StackOverflowError.
        assertTrue(refusedFast(repeat("]", 100_001)).getMessage().contains("more than 100000 values on the stack"));
        assertTrue(refusedFast(repeat("(", 100_000)).getMessage().contains("nested MARKs"));
        // EMPTY_LIST MEMOIZE POP keeps the stack flat: the memo bound must stop it (a 256 MiB one used to exhaust the heap).
        assertTrue(refusedFast(repeat("]\u00940", 1_100_000)).getMessage().contains("more than 1000000 memo entries"));
        assertTrue(refusedFast(repeat("}\u0094", 200_000)).getMessage().contains("values on the stack"));
        // APPEND into one list forever: the bound on all values.
        assertTrue(refusedFast(("\u0080\u0002]" + "]a".repeat(4_100_000) + ".").getBytes(java.nio.charset.StandardCharsets.ISO_8859_1))
                .getMessage().contains("more than 4000000 values"));
    }

    @Test
    void hugeShapesAreNotContiguousInsteadOfOverflowing() {
        var storage = new io.headfuse.formats.meta.pickle.StorageRef("0", io.headfuse.formats.DType.F32, "cpu", 4);
        assertFalse(new TensorRef(storage, 0, new long[] {1L << 40, 1L << 40}, new long[] {1L << 40, 1}).isContiguous());
        assertFalse(new TensorRef(storage, 0, new long[] {1L << 40, 1L << 40, 2}, new long[] {1L << 41, 2, 1}).isContiguous());
    }
}
