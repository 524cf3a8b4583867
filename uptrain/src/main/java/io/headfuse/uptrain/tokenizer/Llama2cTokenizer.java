package io.headfuse.uptrain.tokenizer;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.PriorityQueue;

/**
 * llama2.c's tokenizer files ({@code tokenizer.bin}, {@code tok512.bin}): a sentencepiece BPE vocabulary
 * exported as {@code int max_token_length}, then per token {@code float score, int len, len bytes}.
 *
 * <p>Encoding follows run.c exactly: an optional BOS, a dummy-prefix {@code " "} token for non-empty text, one
 * token per UTF-8 code point (byte-fallback tokens {@code <0xXX>} = id byte+3 when the code point is not in the
 * vocabulary), then repeated merging of the adjacent pair whose concatenation has the highest score (leftmost
 * on ties). run.c rescans all pairs per merge; a heap with stale-entry checks makes the same choices in
 * O(n log n), so whole texts encode quickly.
 *
 * <p>Decoding also follows run.c: BOS/EOS are dropped, the leading space of the first piece (after BOS) is
 * stripped, byte tokens become their byte, and lone unprintable ASCII control bytes are skipped. Bytes are
 * collected and read as UTF-8 at the end, so multi-byte characters survive byte fallback.
 */
public final class Llama2cTokenizer implements TextTokenizer {
    static final int BOS = 1;
    static final int EOS = 2;
    private static final int BYTE_OFFSET = 3;

    private final byte[][] pieces;
    private final float[] scores;
    private final Map<String, Integer> ids;

    private Llama2cTokenizer(byte[][] pieces, float[] scores) {
        this.pieces = pieces;
        this.scores = scores;
        this.ids = new HashMap<>();
        for (int i = 0; i < pieces.length; i++) ids.putIfAbsent(key(pieces[i]), i);
    }

    /** Reads every token of {@code file}. */
    public static Llama2cTokenizer open(Path file) throws IOException {
        return open(file, -1);
    }

    /** Reads the first {@code vocabSize} tokens of {@code file} (all of them when negative). */
    public static Llama2cTokenizer open(Path file, int vocabSize) throws IOException {
        ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(file)).order(ByteOrder.LITTLE_ENDIAN);
        if (b.remaining() < 4) throw new IOException(file + ": not a llama2.c tokenizer (too short)");
        b.getInt(); // max_token_length: run.c sizes buffers with it; merging needs no bound
        java.util.List<byte[]> p = new java.util.ArrayList<>();
        java.util.List<Float> s = new java.util.ArrayList<>();
        while (b.remaining() > 0 && (vocabSize < 0 || p.size() < vocabSize)) {
            if (b.remaining() < 8) throw new IOException(file + ": truncated at token " + p.size());
            float score = b.getFloat();
            int len = b.getInt();
            if (len < 0 || len > b.remaining()) throw new IOException(file + ": bad length " + len + " at token " + p.size());
            byte[] piece = new byte[len];
            b.get(piece);
            p.add(piece);
            s.add(score);
        }
        if (vocabSize > 0 && p.size() < vocabSize)
            throw new IOException(file + ": " + p.size() + " tokens, the model has " + vocabSize);
        float[] scores = new float[s.size()];
        for (int i = 0; i < scores.length; i++) scores[i] = s.get(i);
        return new Llama2cTokenizer(p.toArray(byte[][]::new), scores);
    }

    /** The bytes as a String of chars 0..255, a lossless map key. */
    private static String key(byte[] bytes) { return new String(bytes, StandardCharsets.ISO_8859_1); }

    private int lookup(byte[] bytes, int from, int len) {
        Integer id = ids.get(new String(bytes, from, len, StandardCharsets.ISO_8859_1));
        return id == null ? -1 : id;
    }

    @Override public int[] encode(String text, boolean bos) {
        byte[] utf8 = text.getBytes(StandardCharsets.UTF_8);
        int[] tokens = new int[utf8.length + 2];
        int n = 0;
        if (bos) tokens[n++] = BOS;
        if (utf8.length > 0) {
            int dummy = lookup(new byte[] {' '}, 0, 1);
            if (dummy >= 0) tokens[n++] = dummy;
        }
        // One token per code point: a code point is a lead byte and up to 3 continuation bytes (run.c).
        int i = 0;
        while (i < utf8.length) {
            int len = 1;
            while (i + len < utf8.length && (utf8[i + len] & 0xC0) == 0x80 && len < 4) len++;
            int id = lookup(utf8, i, len);
            if (id >= 0) tokens[n++] = id;
            else for (int j = 0; j < len; j++) tokens[n++] = (utf8[i + j] & 0xff) + BYTE_OFFSET;
            i += len;
        }
        int start = bos ? 1 : 0;
        int[] merged = merge(java.util.Arrays.copyOfRange(tokens, start, n));
        int[] out = new int[merged.length + start];
        if (bos) out[0] = BOS;
        System.arraycopy(merged, 0, out, start, merged.length);
        return out;
    }

    /** One candidate merge of the node at {@code left} with its right neighbour, as of their versions. */
    private record Pair(float score, int left, int right, int id, int leftVersion, int rightVersion) {}

    /** BPE merging by vocabulary score, highest first, leftmost on ties (run.c's order). */
    private int[] merge(int[] tokens) {
        int n = tokens.length;
        if (n < 2) return tokens;
        int[] tok = tokens.clone();
        int[] next = new int[n];
        int[] prev = new int[n];
        int[] version = new int[n];
        boolean[] alive = new boolean[n];
        for (int i = 0; i < n; i++) {
            next[i] = i + 1 < n ? i + 1 : -1;
            prev[i] = i - 1;
            alive[i] = true;
        }
        PriorityQueue<Pair> heap = new PriorityQueue<>((a, b) -> a.score != b.score ? Float.compare(b.score, a.score) : Integer.compare(a.left, b.left));
        for (int i = 0; i + 1 < n; i++) offer(heap, tok, version, i, i + 1);
        while (!heap.isEmpty()) {
            Pair p = heap.poll();
            if (!alive[p.left] || !alive[p.right] || next[p.left] != p.right
                    || version[p.left] != p.leftVersion || version[p.right] != p.rightVersion) continue;
            tok[p.left] = p.id;
            version[p.left]++;
            alive[p.right] = false;
            next[p.left] = next[p.right];
            if (next[p.right] >= 0) prev[next[p.right]] = p.left;
            if (prev[p.left] >= 0) offer(heap, tok, version, prev[p.left], p.left);
            if (next[p.left] >= 0) offer(heap, tok, version, p.left, next[p.left]);
        }
        int count = 0;
        for (int i = 0; i >= 0; i = next[i]) count++;
        int[] out = new int[count];
        int j = 0;
        for (int i = 0; i >= 0; i = next[i]) out[j++] = tok[i];
        return out;
    }

    private void offer(PriorityQueue<Pair> heap, int[] tok, int[] version, int left, int right) {
        byte[] a = pieces[tok[left]];
        byte[] b = pieces[tok[right]];
        byte[] both = new byte[a.length + b.length];
        System.arraycopy(a, 0, both, 0, a.length);
        System.arraycopy(b, 0, both, a.length, b.length);
        int id = lookup(both, 0, both.length);
        if (id >= 0) heap.add(new Pair(scores[id], left, right, id, version[left], version[right]));
    }

    @Override public String decode(int[] tokens) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        boolean atStart = true;
        for (int id : tokens) {
            if (id == BOS) {
                atStart = true;
                continue;
            }
            if (id == EOS || id < BYTE_OFFSET || id >= pieces.length) continue;
            byte[] piece = pieces[id];
            int from = atStart && piece.length > 0 && piece[0] == ' ' ? 1 : 0;
            atStart = false;
            int b = byteValue(piece);
            if (b >= 0) {
                if (b < 0x80 && b != '\t' && b != '\n' && b != '\r' && b != 0x0b && b != '\f' && (b < 0x20 || b == 0x7f)) continue;
                out.write(b);
            } else {
                out.write(piece, from, piece.length - from);
            }
        }
        return out.toString(StandardCharsets.UTF_8);
    }

    /** The byte of a {@code <0xXX>} piece, or -1. */
    private static int byteValue(byte[] piece) {
        if (piece.length != 6 || piece[0] != '<' || piece[1] != '0' || piece[2] != 'x' || piece[5] != '>') return -1;
        int hi = Character.digit(piece[3], 16);
        int lo = Character.digit(piece[4], 16);
        return hi < 0 || lo < 0 ? -1 : hi * 16 + lo;
    }

    @Override public int bosId() { return BOS; }

    @Override public int eosId() { return EOS; }

    @Override public int vocabSize() { return pieces.length; }
}
