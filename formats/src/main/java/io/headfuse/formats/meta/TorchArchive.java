package io.headfuse.formats.meta;

import io.headfuse.formats.CheckpointException;
import io.headfuse.formats.InputFiles;
import io.headfuse.formats.MappedTensor;
import io.headfuse.formats.TensorSource;
import io.headfuse.formats.meta.pickle.StorageRef;
import io.headfuse.formats.meta.pickle.TensorRef;
import io.headfuse.formats.meta.pickle.Unpickler;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One torch zip checkpoint ({@code torch.save} since 1.6) read as a state dict: {@code <archive>/data.pkl} is
 * unpickled by the restricted {@link Unpickler}, and every tensor becomes a {@link MappedTensor} over its
 * storage entry {@code <archive>/data/<key>}, under the name it was saved with. Nothing is copied.
 */
public record TorchArchive(Path file, Map<String, MappedTensor> tensors) {
    private static final int MAX_PICKLE_BYTES = 64 << 20; // a 405B model's data.pkl is a few hundred KB

    public TorchArchive {
        tensors = Collections.unmodifiableMap(new LinkedHashMap<>(tensors));
    }

    public static TorchArchive read(Path file) throws IOException {
        checkMagic(file);
        ZipDirectory dir = ZipDirectory.read(file);
        String pkl = dataPickle(dir);
        String prefix = pkl.substring(0, pkl.length() - "data.pkl".length());
        // Small entries are read through our own directory, with their CRC-32 checked, never through a second
        // zip reader that might see a different central directory than the one the storages are mapped from.
        ZipDirectory.Entry orderEntry = dir.entries().get(prefix + "byteorder");
        String order = orderEntry != null ? new String(dir.readSmall(orderEntry, 16), StandardCharsets.US_ASCII).trim() : "little";
        if (!order.equals("little")) throw new CheckpointException(file, "byte order '" + order + "': only little-endian checkpoints are supported");
        Object root = Unpickler.load(dir.readSmall(dir.entries().get(pkl), MAX_PICKLE_BYTES), file, pkl);
        if (!(root instanceof Map<?, ?> dict)) throw new CheckpointException(file, pkl + " holds " + typeName(root) + ", not a state dict");
        Map<String, MappedTensor> tensors = new LinkedHashMap<>();
        for (Map.Entry<?, ?> e : dict.entrySet()) {
            if (!(e.getKey() instanceof String name)) throw new CheckpointException(file, "state dict key " + e.getKey() + " is not a string");
            if (!(e.getValue() instanceof TensorRef ref))
                throw new CheckpointException(file, "tensor " + name + ": the state dict maps it to " + typeName(e.getValue()) + ", not a tensor");
            tensors.put(name, map(file, dir, prefix, name, ref));
        }
        return new TorchArchive(file, tensors);
    }

    /** Checks the view against its storage entry and maps it: the entry must exist, be STORED, and hold the view. */
    private static MappedTensor map(Path file, ZipDirectory dir, String prefix, String name, TensorRef ref) throws CheckpointException {
        StorageRef s = ref.storage();
        String where = "tensor " + name + ": ";
        long numel;
        try {
            numel = ref.numel();
        } catch (ArithmeticException ex) {
            throw new CheckpointException(file, where + "shape " + TensorSource.describe(ref.shape()) + " has more than 2^63 elements");
        }
        if (!ref.isContiguous())
            throw new CheckpointException(file, where + "strides " + TensorSource.describe(ref.stride()) + " for shape " + TensorSource.describe(ref.shape())
                    + " are not contiguous (row-major); re-save it with .contiguous()");
        ZipDirectory.Entry entry = dir.entries().get(prefix + "data/" + s.key());
        if (entry == null) throw new CheckpointException(file, where + "its storage 'data/" + s.key() + "' is missing from the archive");
        if (entry.method() != ZipDirectory.STORED)
            throw new CheckpointException(file, where + "storage entry " + entry.name() + " is compressed (zip method " + entry.method()
                    + "); torch.save stores storages uncompressed, which is what lets them be mapped");
        int size = s.dtype().size();
        if (entry.size() != entry.compressedSize())
            throw new CheckpointException(file, where + "storage entry " + entry.name() + " is stored but its sizes differ (" + entry.compressedSize() + " and " + entry.size() + ")");
        if (entry.size() % size != 0)
            throw new CheckpointException(file, where + "storage " + entry.name() + " has " + entry.size() + " bytes, not a whole number of " + s.dtype() + " elements");
        long storageNumel = entry.size() / size;
        long end;
        try {
            end = Math.addExact(ref.offset(), numel);
        } catch (ArithmeticException ex) {
            throw new CheckpointException(file, where + "offset + size overflows");
        }
        if (end > storageNumel)
            throw new CheckpointException(file, where + "elements [" + ref.offset() + ", " + end + ") lie outside its storage 'data/" + s.key()
                    + "' of " + storageNumel + " " + s.dtype() + " elements");
        // The entry's CRC covers the whole storage: a tensor that is all of it (as torch.save writes every state dict
        // entry) is checked on its own bytes; one that views part of it reads the whole storage to be checked.
        MappedTensor.Crc crc = new MappedTensor.Crc(entry.dataOffset(), entry.size(), entry.crc());
        return new MappedTensor(name, s.dtype(), ref.shape(), file, entry.dataOffset() + ref.offset() * size, crc);
    }

    private static void checkMagic(Path file) throws IOException {
        InputFiles.requireRegularFile(file);
        byte[] head = new byte[4];
        try (InputStream in = Files.newInputStream(file)) {
            int n = in.readNBytes(head, 0, 4);
            if (n == 4 && head[0] == 'P' && head[1] == 'K' && head[2] == 3 && head[3] == 4) return;
            if (n > 0 && (head[0] & 0xff) == 0x80)
                throw new CheckpointException(file, "legacy (pre-1.6) torch.save format, not a zip archive: re-save it with a current torch");
            throw new CheckpointException(file, "not a torch checkpoint (not a zip archive)");
        }
    }

    /** The single {@code <archive>/data.pkl}: torch names the top folder after the file, or "archive". */
    private static String dataPickle(ZipDirectory dir) throws CheckpointException {
        List<String> pkls = dir.entries().keySet().stream()
                .filter(n -> n.endsWith("/data.pkl") && n.indexOf('/') == n.length() - "/data.pkl".length()).toList();
        if (pkls.size() != 1)
            throw new CheckpointException(dir.file(), pkls.isEmpty() ? "no <archive>/data.pkl entry: not a torch.save checkpoint" : "several data.pkl entries: " + pkls);
        return pkls.get(0);
    }

    private static String typeName(Object o) {
        if (o == null) return "None";
        if (o instanceof Map<?, ?>) return "a dict";
        if (o instanceof List<?>) return "a list";
        return "a " + o.getClass().getSimpleName();
    }
}
