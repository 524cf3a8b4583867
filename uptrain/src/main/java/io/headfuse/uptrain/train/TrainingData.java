package io.headfuse.uptrain.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.headfuse.uptrain.eval.Perplexity;
import io.headfuse.uptrain.eval.TokenStream;
import io.headfuse.uptrain.tokenizer.TextTokenizer;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The token streams of a training run, tokenized once: each data file is read as Python's text mode reads it,
 * tokenized whole (one BOS, as transformers does), and split at {@code (int)((1 - holdout) * n)}. The heads of the
 * files, concatenated, are what the student trains on; each tail, with one BOS put in front, is a held-out slice
 * that is never trained on (with holdout 0.02 it is the validation slice of the shared assets' convention).
 *
 * <p>Training windows are drawn by a counter-based generator: window {@code n} of a run with seed {@code s}
 * starts at a position that depends only on {@code (s, n)}. The data order is then fully described by the step
 * count, which is what a resumable state records, and a resumed run sees exactly the windows it would have seen.
 */
public final class TrainingData {
    /** A held-out slice: the file it comes from and its tokens. */
    public record Slice(String name, TokenStream stream) {
        /** The first {@code max} tokens of the slice (all of it when max is 0 or more than it has). */
        public Slice capped(TextTokenizer tok, long max) {
            if (max <= 0 || stream.length() <= max) return this;
            int[] ids = java.util.Arrays.copyOf(stream.ids(), (int) max);
            return new Slice(name, new TokenStream(ids, tok.decode(ids)));
        }
    }

    private final int[] train;
    private final List<Slice> holdout;
    private final List<Path> files;

    private TrainingData(int[] train, List<Slice> holdout, List<Path> files) {
        this.train = train;
        this.holdout = List.copyOf(holdout);
        this.files = List.copyOf(files);
    }

    /**
     * Tokenizes {@code files} and splits each at {@code 1 - holdout}. Fails, naming the files, when their training
     * part is shorter than one window of {@code seq} tokens.
     */
    public static TrainingData load(TextTokenizer tok, List<Path> files, double holdout, int seq) throws IOException {
        if (files.isEmpty()) throw new IllegalArgumentException("no training data: pass --data FILE");
        if (!(holdout >= 0 && holdout < 1)) throw new IllegalArgumentException("holdout must be in [0, 1), got " + holdout);
        List<int[]> heads = new ArrayList<>();
        List<Slice> tails = new ArrayList<>();
        long total = 0;
        for (Path f : files) {
            int[] ids = tok.encode(Perplexity.readText(f), true);
            int cut = (int) ((1 - holdout) * ids.length);
            heads.add(java.util.Arrays.copyOf(ids, cut));
            total += cut;
            if (holdout > 0) tails.add(new Slice(f.getFileName().toString(), slice(tok, ids, cut)));
        }
        if (total < seq + 1)
            throw new IllegalArgumentException(describe(files) + ": " + total + " training tokens, fewer than one window of " + seq
                    + " tokens (+1): pass more text or a smaller --seq");
        int[] train = new int[Math.toIntExact(total)];
        int at = 0;
        for (int[] h : heads) {
            System.arraycopy(h, 0, train, at, h.length);
            at += h.length;
        }
        return new TrainingData(train, tails, files);
    }

    /**
     * The held-out slice of {@code file}: the last {@code holdout} of its tokens after one BOS (the whole file when
     * holdout is 0), for evaluating on text the student never trained on.
     */
    public static Slice evalSlice(TextTokenizer tok, Path file, double holdout) throws IOException {
        int[] ids = tok.encode(Perplexity.readText(file), true);
        int cut = (int) ((1 - holdout) * ids.length);
        TokenStream s = holdout > 0 ? slice(tok, ids, cut) : new TokenStream(ids, tok.decode(ids));
        if (s.length() < 2) throw new IllegalArgumentException(file + ": text too short to evaluate: " + s.length() + " tokens");
        return new Slice(file.getFileName().toString(), s);
    }

    private static TokenStream slice(TextTokenizer tok, int[] ids, int cut) {
        int[] tail = new int[ids.length - cut + 1];
        tail[0] = tok.bosId();
        System.arraycopy(ids, cut, tail, 1, ids.length - cut);
        return new TokenStream(tail, tok.decode(tail));
    }

    private static String describe(List<Path> files) {
        return files.size() == 1 ? files.get(0).toString() : files.get(0) + " (and " + (files.size() - 1) + " more)";
    }

    /** Tokens available for training. */
    public long trainTokens() { return train.length; }

    public List<Slice> holdout() { return holdout; }

    public List<Path> files() { return files; }

    /**
     * Windows {@code first .. first+batch-1} of the run's sequence for {@code seed}, as int64 ids [batch, seq] in
     * {@code m}.
     */
    public NDArray batch(NDManager m, long seed, long first, int batch, int seq) {
        long[] ids = new long[batch * seq];
        for (int b = 0; b < batch; b++) {
            int start = windowStart(seed, first + b, seq);
            for (int t = 0; t < seq; t++) ids[b * seq + t] = train[start + t];
        }
        return m.create(ids, new Shape(batch, seq));
    }

    /** Where window {@code n} starts: uniform over every position a whole window fits at. */
    int windowStart(long seed, long n, int seq) {
        long positions = train.length - seq + 1L;
        return (int) Long.remainderUnsigned(mix(mix(seed) ^ n), positions);
    }

    /** SplitMix64's finaliser: a bijective 64-bit mix, so distinct counters give independent-looking draws. */
    static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
        z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
        return z ^ (z >>> 31);
    }
}
