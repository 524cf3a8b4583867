package io.headfuse.fusion.dha;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;

class BudgetAllocatorTest {
    /** The DP's optimum equals exhaustive search over every split, on random (non-convex) error tables. */
    @Test void matchesExhaustiveSearch() {
        Random r = new Random(11);
        for (int trial = 0; trial < 40; trial++) {
            int items = 2 + r.nextInt(4), max = 2 + r.nextInt(4);
            double[][] e = new double[items][max];
            for (double[] row : e) for (int c = 0; c < max; c++) row[c] = r.nextDouble();
            int total = items + r.nextInt(items * (max - 1) + 1);
            int[] got = BudgetAllocator.allocate(e, total, 1, max);
            assertEquals(total, Arrays.stream(got).sum());
            for (int c : got) assertEquals(true, c >= 1 && c <= max);
            assertEquals(bruteForce(e, total, max, new int[items], 0), BudgetAllocator.cost(e, got), 1e-12);
        }
    }

    private static double bruteForce(double[][] e, int total, int max, int[] counts, int i) {
        if (i == counts.length) return Arrays.stream(counts).sum() == total ? BudgetAllocator.cost(e, counts) : Double.POSITIVE_INFINITY;
        double best = Double.POSITIVE_INFINITY;
        for (int c = 1; c <= max; c++) {
            counts[i] = c;
            best = Math.min(best, bruteForce(e, total, max, counts, i + 1));
        }
        return best;
    }

    /** Hard items get the heads: the item whose error falls most keeps more heads. */
    @Test void givesHeadsWhereTheyHelpMost() {
        double[][] e = {{0.9, 0.5, 0.1, 0}, {0.05, 0.02, 0.01, 0}};
        assertArrayEquals(new int[] {3, 1}, BudgetAllocator.allocate(e, 4, 1, 4));
    }

    @Test void refusesImpossibleTotals() {
        double[][] e = {{1, 0}, {1, 0}};
        assertThrows(IllegalArgumentException.class, () -> BudgetAllocator.allocate(e, 5, 1, 2));
        assertThrows(IllegalArgumentException.class, () -> BudgetAllocator.allocate(e, 1, 1, 2));
    }
}
