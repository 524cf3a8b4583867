package io.headfuse.uptrain.eval;

import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * Teacher and student measured on the same windows.
 *
 * @param teacher       the teacher's perplexity
 * @param student       the student's perplexity
 * @param meanKl        mean over predicted tokens of KL(teacher || student), nats
 * @param maxKl         the largest per-token KL
 * @param top1Agreement fraction of tokens where both predict the same next token
 */
public record ComparisonResult(PerplexityResult teacher, PerplexityResult student, double meanKl, double maxKl, double top1Agreement) {
    /** Relative perplexity change of the student, e.g. 0.03 for 3% worse. */
    public double pplIncrease() { return student.ppl() / teacher.ppl() - 1; }

    /** The pooled comparison of several texts (token-weighted). */
    public static ComparisonResult combine(java.util.List<ComparisonResult> parts) {
        double kl = 0, agree = 0, max = 0;
        long n = 0;
        for (ComparisonResult r : parts) {
            kl += r.meanKl * r.teacher.tokens();
            agree += r.top1Agreement * r.teacher.tokens();
            max = Math.max(max, r.maxKl);
            n += r.teacher.tokens();
        }
        return new ComparisonResult(
                PerplexityResult.combine(parts.stream().map(ComparisonResult::teacher).toList()),
                PerplexityResult.combine(parts.stream().map(ComparisonResult::student).toList()),
                kl / n, max, agree / n);
    }

    public Map<String, Object> toJson() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("teacher_ppl", teacher.ppl());
        m.put("student_ppl", student.ppl());
        m.put("ppl_increase", pplIncrease());
        m.put("kl", meanKl);
        m.put("max_kl", maxKl);
        m.put("top1_agreement", top1Agreement);
        m.put("tokens", teacher.tokens());
        m.put("teacher", teacher.toJson());
        m.put("student", student.toJson());
        return m;
    }

    @Override public String toString() {
        return String.format(Locale.ROOT, "teacher ppl %.4f, student ppl %.4f (%+.2f%%), KL(teacher||student) %.5f nats/token (max %.4f), top-1 agreement %.2f%% over %d tokens",
                teacher.ppl(), student.ppl(), 100 * pplIncrease(), meanKl, maxKl, 100 * top1Agreement, teacher.tokens());
    }
}
