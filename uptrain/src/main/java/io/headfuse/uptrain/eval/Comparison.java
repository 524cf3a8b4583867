package io.headfuse.uptrain.eval;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import io.headfuse.uptrain.model.LlamaModel;
import io.headfuse.uptrain.tokenizer.TextTokenizer;
import io.headfuse.uptrain.tokenizer.Tokenizers;
import ai.djl.Device;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/**
 * The before/after report of a conversion: the teacher's and the student's perplexity on the same windows, and
 * how far the student's next-token distributions are from the teacher's, as the mean per-token
 * KL(teacher || student) = sum_v p_t(v) (log p_t(v) - log p_s(v)).
 */
public final class Comparison {
    private Comparison() {}

    /**
     * Loads both models on {@code device}, reads {@code data} (UTF-8) and compares on it with the teacher's
     * tokenizer: the one-call before/after report of a conversion.
     */
    public static ComparisonResult run(Path teacherModel, Path studentModel, Path data, EvalOptions o, Device device) throws IOException {
        String text = Perplexity.readText(data);
        try (LlamaModel teacher = LlamaModel.load(teacherModel, device);
             LlamaModel student = LlamaModel.load(studentModel, device);
             TextTokenizer tok = Tokenizers.forModel(teacherModel)) {
            return run(teacher, student, tok, text, o);
        }
    }

    /** Tokenizes {@code text} once (both models must share the tokenizer) and compares on it. */
    public static ComparisonResult run(LlamaModel teacher, LlamaModel student, TextTokenizer tokenizer, String text, EvalOptions o) {
        return run(teacher, student, TokenStream.of(tokenizer, text, o), o);
    }

    public static ComparisonResult run(LlamaModel teacher, LlamaModel student, TokenStream stream, EvalOptions o) {
        if (teacher.config().vocabSize() != student.config().vocabSize())
            throw new IllegalArgumentException("teacher and student vocabularies differ (" + teacher.config().vocabSize()
                    + " vs " + student.config().vocabSize() + " tokens): they cannot be compared token by token");
        List<int[]> windows = stream.windows(o.window());
        if (windows.isEmpty()) throw new IllegalArgumentException("text too short: " + stream.length() + " tokens, at least 2 needed");
        int batch = BatchSize.resolve(o.batch(), teacher.config(), o.window(), teacher.device());
        double nllT = 0, nllS = 0, kl = 0, maxKl = 0, secT = 0, secS = 0;
        long predicted = 0, processed = 0, agree = 0;
        try (Progress bar = Progress.start(o.progress(), o.label(), 2 * stream.processed(o.window()))) {
            for (List<int[]> ranges : Batches.of(windows, batch)) {
                List<int[]> ids = ranges.stream().map(stream::slice).toList();
                int t = ids.get(0).length;
                try (NDManager subT = teacher.manager().newSubManager(); NDManager subS = student.manager().newSubManager()) {
                    long t0 = System.nanoTime();
                    NDArray idsT = TokenScores.tokens(ids, subT);
                    NDArray lpT = TokenScores.logProbs(teacher, idsT);
                    nllT += TokenScores.nllSum(lpT, TokenScores.targets(idsT)).getDouble();   // read now: times each model
                    long t1 = System.nanoTime();
                    NDArray idsS = TokenScores.tokens(ids, subS);
                    NDArray lpS = TokenScores.logProbs(student, idsS);
                    nllS += TokenScores.nllSum(lpS, TokenScores.targets(idsS)).getDouble();
                    long t2 = System.nanoTime();
                    secT += (t1 - t0) / 1e9;
                    secS += (t2 - t1) / 1e9;
                    NDArray s = lpS.toDevice(teacher.device(), false);
                    float[] perToken = TokenScores.klTeacherStudent(lpT, s);
                    for (float v : perToken) {
                        kl += v;
                        maxKl = Math.max(maxKl, v);
                    }
                    long[] at = lpT.argMax(-1).toLongArray();
                    long[] as = s.argMax(-1).toLongArray();
                    for (int i = 0; i < at.length; i++) if (at[i] == as[i]) agree++;
                }
                predicted += (long) ids.size() * (t - 1);
                processed += (long) ids.size() * t;
                bar.step(2L * ids.size() * t);
            }
        }
        long words = stream.words(), bytes = stream.bytes();
        return new ComparisonResult(
                new PerplexityResult(nllT, predicted, words, bytes, processed, secT),
                new PerplexityResult(nllS, predicted, words, bytes, processed, secS),
                kl / predicted, maxKl, (double) agree / predicted);
    }
}
