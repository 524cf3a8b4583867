package io.headfuse.converter.cli;

import java.util.Map;

/** The per-layer K/V budgets of a DHA plan as {@code headfuse plan} prints them. */
final class DhaBudgets {
    private DhaBudgets() {}

    static String table(int[] k, int[] v, int nominal, Map<String, Object> details) {
        StringBuilder s = new StringBuilder(String.format("per-layer budgets (K + V heads; uniform GQA would keep %d + %d in every layer):%n", nominal, nominal));
        long total = 0;
        for (int l = 0; l < k.length; l++) {
            s.append(String.format("layer %2d  K %d  V %d%n", l, k[l], v[l]));
            total += k[l] + v[l];
        }
        s.append(String.format("total %d kv heads = uniform %d x 2 x %d layers", total, nominal, k.length));
        if (details.get("allocation_cost") instanceof Double a && details.get("uniform_allocation_cost") instanceof Double u)
            s.append(String.format("; summed cost %.4f (uniform counts: %.4f)", a, u));
        return s.append(System.lineSeparator()).toString();
    }
}
