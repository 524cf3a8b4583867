package io.headfuse.formats.meta;

import io.headfuse.formats.CheckpointException;
import io.headfuse.formats.InputFiles;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.zip.CRC32;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The central directory of a zip file, with each entry's data offset. java.util.zip reads entries but does not
 * say where their bytes start, and a torch checkpoint is only mappable if we know it: torch writes every entry
 * STORED, so a tensor is a plain region of the file at (local header offset + 30 + name length + extra length).
 * Handles Zip64 (torch uses it for files over 4 GiB).
 */
record ZipDirectory(Path file, long fileSize, Map<String, Entry> entries) {
    static final int STORED = 0;

    /** One entry; {@code dataOffset} is where its (stored or compressed) bytes begin; {@code crc} is its CRC-32. */
    record Entry(String name, int method, long compressedSize, long size, long dataOffset, int crc) {}

    private static final int EOCD_SIG = 0x06054b50, ZIP64_LOCATOR_SIG = 0x07064b50, ZIP64_EOCD_SIG = 0x06064b50;
    private static final int CEN_SIG = 0x02014b50, LOC_SIG = 0x04034b50;

    static ZipDirectory read(Path file) throws IOException {
        InputFiles.requireRegularFile(file);
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = ch.size();
            // The end-of-central-directory record is the last 22 bytes plus a comment of up to 64 KiB.
            int tailLen = (int) Math.min(size, 22 + 0xffff);
            ByteBuffer tail = readAt(ch, size - tailLen, tailLen, file);
            int eocd = -1;
            for (int i = tailLen - 22; i >= 0; i--) if (tail.getInt(i) == EOCD_SIG) { eocd = i; break; }
            if (eocd < 0) throw new CheckpointException(file, "not a zip archive (no end of central directory)");
            long count = tail.getShort(eocd + 10) & 0xffff;
            long cdSize = tail.getInt(eocd + 12) & 0xffffffffL;
            long cdOffset = tail.getInt(eocd + 16) & 0xffffffffL;
            long eocdPos = size - tailLen + eocd;
            if (count == 0xffff || cdSize == 0xffffffffL || cdOffset == 0xffffffffL) {
                if (eocdPos < 20) throw new CheckpointException(file, "corrupt zip: Zip64 locator missing");
                ByteBuffer loc = readAt(ch, eocdPos - 20, 20, file);
                if (loc.getInt(0) != ZIP64_LOCATOR_SIG) throw new CheckpointException(file, "corrupt zip: Zip64 locator missing");
                ByteBuffer z = readAt(ch, loc.getLong(8), 56, file);
                if (z.getInt(0) != ZIP64_EOCD_SIG) throw new CheckpointException(file, "corrupt zip: bad Zip64 end record");
                count = z.getLong(32);
                cdSize = z.getLong(40);
                cdOffset = z.getLong(48);
            }
            // Subtractions, not sums: Zip64 fields are 8 bytes and a forged one near 2^63 would wrap a sum around.
            if (cdOffset < 0 || cdSize < 0 || cdOffset > eocdPos || cdSize > eocdPos - cdOffset || cdSize > Integer.MAX_VALUE)
                throw new CheckpointException(file, "corrupt zip: central directory at " + cdOffset + "+" + cdSize + " outside the file (" + size + " bytes)");
            ByteBuffer cd = readAt(ch, cdOffset, (int) cdSize, file);
            Map<String, Entry> entries = new LinkedHashMap<>();
            Map<Long, Long> starts = new java.util.HashMap<>(); // data offset -> local header offset
            int p = 0;
            for (long i = 0; i < count; i++) {
                if (p + 46 > cd.limit() || cd.getInt(p) != CEN_SIG) throw new CheckpointException(file, "corrupt zip: bad central directory entry " + i);
                int method = cd.getShort(p + 10) & 0xffff;
                int crc = cd.getInt(p + 16);
                long csize = cd.getInt(p + 20) & 0xffffffffL;
                long usize = cd.getInt(p + 24) & 0xffffffffL;
                int nameLen = cd.getShort(p + 28) & 0xffff, extraLen = cd.getShort(p + 30) & 0xffff, commentLen = cd.getShort(p + 32) & 0xffff;
                long localOffset = cd.getInt(p + 42) & 0xffffffffL;
                if (p + 46 + nameLen + extraLen > cd.limit()) throw new CheckpointException(file, "corrupt zip: central directory entry " + i + " runs past its end");
                byte[] nameBytes = new byte[nameLen];
                cd.get(p + 46, nameBytes);
                String name = new String(nameBytes, StandardCharsets.UTF_8);
                // Zip64 extra field: the 8-byte values, in this order, of whichever fields are saturated.
                int extraEnd = p + 46 + nameLen + extraLen;
                for (int e = p + 46 + nameLen; e + 4 <= extraEnd; ) {
                    int id = cd.getShort(e) & 0xffff, len = cd.getShort(e + 2) & 0xffff;
                    if (e + 4 + len > extraEnd) throw new CheckpointException(file, "corrupt zip: extra field of entry " + name + " runs past its end");
                    if (id == 0x0001) {
                        int f = e + 4;
                        if (usize == 0xffffffffL && f + 8 <= e + 4 + len) { usize = cd.getLong(f); f += 8; }
                        if (csize == 0xffffffffL && f + 8 <= e + 4 + len) { csize = cd.getLong(f); f += 8; }
                        if (localOffset == 0xffffffffL && f + 8 <= e + 4 + len) localOffset = cd.getLong(f);
                    }
                    e += 4 + len;
                }
                if (usize < 0 || csize < 0) throw new CheckpointException(file, "corrupt zip: entry " + name + " has a negative size");
                Entry entry = new Entry(name, method, csize, usize, dataOffset(ch, localOffset, name, file, csize, usize, crc), crc);
                if (entries.put(name, entry) != null) throw new CheckpointException(file, "corrupt zip: entry " + name + " appears twice");
                starts.put(entry.dataOffset, localOffset);
                p += 46 + nameLen + extraLen + commentLen;
            }
            for (Entry e : entries.values())
                if (e.dataOffset > cdOffset || e.compressedSize > cdOffset - e.dataOffset)
                    throw new CheckpointException(file, "truncated: zip entry " + e.name + " ends at byte " + (e.dataOffset + e.compressedSize)
                            + ", past the central directory at byte " + cdOffset);
            // Each entry (local header, then data) must have its own bytes: a central directory whose offsets or
            // sizes lie could otherwise make a storage read data.pkl, or another tensor, as weights.
            List<Entry> byOffset = new ArrayList<>(entries.values());
            byOffset.sort(Comparator.comparingLong(Entry::dataOffset));
            for (int i = 1; i < byOffset.size(); i++) {
                Entry a = byOffset.get(i - 1), b = byOffset.get(i);
                if (a.dataOffset + a.compressedSize > starts.get(b.dataOffset))
                    throw new CheckpointException(file, "corrupt zip: entries " + a.name + " and " + b.name + " overlap");
            }
            return new ZipDirectory(file, size, entries);
        }
    }

    /** Local header: 30 fixed bytes, then the name and an extra field whose length may differ from the central one. */
    private static long dataOffset(FileChannel ch, long localOffset, String name, Path file, long csize, long usize, int crc) throws IOException {
        if (localOffset < 0 || localOffset > ch.size() - 30) throw new CheckpointException(file, "corrupt zip: entry " + name + " has its header outside the file");
        ByteBuffer h = readAt(ch, localOffset, 30, file);
        if (h.getInt(0) != LOC_SIG) throw new CheckpointException(file, "corrupt zip: no local header for entry " + name + " at byte " + localOffset);
        int nameLen = h.getShort(26) & 0xffff, extraLen = h.getShort(28) & 0xffff;
        if (localOffset + 30 + nameLen > ch.size()) throw new CheckpointException(file, "corrupt zip: local header of entry " + name + " runs past the end");
        byte[] localName = new byte[nameLen];
        readAt(ch, localOffset + 30, nameLen, file).get(localName);
        if (!name.equals(new String(localName, StandardCharsets.UTF_8)))
            throw new CheckpointException(file, "corrupt zip: the central directory's entry " + name + " points at the local header of another entry");
        // Without a data descriptor (flag bit 3; torch writes none) the local header repeats CRC and sizes: they
        // must agree with the central directory, or one of them lies. Zip64 saturated sizes live in the extra field.
        boolean descriptor = (h.getShort(6) & 0x8) != 0;
        long lc = h.getInt(18) & 0xffffffffL, lu = h.getInt(22) & 0xffffffffL;
        if (!descriptor && (h.getInt(14) != crc || (lc != 0xffffffffL && lc != csize) || (lu != 0xffffffffL && lu != usize)))
            throw new CheckpointException(file, "corrupt zip: the local header of entry " + name + " disagrees with the central directory on its CRC or sizes");
        return localOffset + 30 + nameLen + extraLen;
    }

    /** The entry's bytes, for small entries (data.pkl, byteorder): STORED, CRC-32 checked. */
    byte[] readSmall(Entry e, int max) throws IOException {
        if (e.method != STORED) throw new CheckpointException(file, "zip entry " + e.name + " is compressed (method " + e.method + "); torch.save stores every entry");
        if (e.size != e.compressedSize) throw new CheckpointException(file, "corrupt zip: stored entry " + e.name + " has sizes " + e.compressedSize + " and " + e.size);
        if (e.size > max) throw new CheckpointException(file, "zip entry " + e.name + " is " + e.size + " bytes, more than the " + max + " it can be");
        byte[] b = new byte[(int) e.size];
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            readAt(ch, e.dataOffset, b.length, file).get(b);
        }
        CRC32 crc = new CRC32();
        crc.update(b);
        if ((int) crc.getValue() != e.crc)
            throw new CheckpointException(file, "zip entry " + e.name + " fails its CRC-32 check (stored " + Integer.toHexString(e.crc) + ", computed "
                    + Long.toHexString(crc.getValue()) + "): the file is corrupt");
        return b;
    }

    private static ByteBuffer readAt(FileChannel ch, long pos, int len, Path file) throws IOException {
        if (pos < 0 || len < 0 || pos > ch.size() - len) throw new CheckpointException(file, "corrupt zip: read of " + len + " bytes at " + pos + " is outside the file");
        ByteBuffer b = ByteBuffer.allocate(len).order(ByteOrder.LITTLE_ENDIAN);
        while (b.hasRemaining()) if (ch.read(b, pos + b.position()) < 0) throw new CheckpointException(file, "truncated while reading the zip directory");
        return b.flip();
    }
}
