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
}
