package io.headfuse.fusion;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.headfuse.fusion.asym.AsymOptions;
import io.headfuse.fusion.asym.AsymStrategy;
import io.headfuse.fusion.asym.LinearCka;
import io.headfuse.fusion.dha.DhaOptions;
import io.headfuse.fusion.dha.DhaStrategy;
import org.junit.jupiter.api.Test;

/** Typed options per strategy: defaults, validation at construction, and no options of another strategy. */
class StrategiesTest {
    @Test void asymDefaultsAreTheBestHfLoadableVariant() {
        AsymStrategy.Settings s = assertInstanceOf(AsymStrategy.Settings.class, Strategies.defaults("asym"));
        assertTrue(s.align() && s.leastSquares() && s.coupled(), s.toString());
        // with alignment the similarity is CKA, which the report names: help and behaviour agree
        assertEquals(new LinearCka().name(), s.options(2).similarity().name());
        assertEquals("cosine", s.with(false, true, true, 0).options(2).similarity().name());
        assertEquals(s, ((AsymStrategy) Strategies.byName("asym")).settings());
    }

    @Test void optionsAreValidatedWhenBuilt() {
        AsymStrategy.Settings d = AsymStrategy.Settings.defaults();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new AsymStrategy.Settings(d.objective(), null, d.search(), 0, 0, true, true, true, true));
        assertEquals("restarts must be positive, got 0", e.getMessage());
        assertThrows(NullPointerException.class, () -> new AsymStrategy.Settings(null, null, AsymOptions.Search.SWAPS, 0, 1, true, true, true, true));
    }

    @Test void dhaIsRegisteredWithItsTypedOptions() {
        DhaOptions d = assertInstanceOf(DhaOptions.class, Strategies.defaults("dha"));
        assertTrue(d.coupled() && !d.uniform() && d.difficulty() == DhaOptions.Difficulty.LOSS, d.toString());
        assertEquals(d, ((DhaStrategy) Strategies.byName("dha")).options());
        assertEquals(4, d.maxHeads(8, 2), "loss probes: counts up to 2N");
        assertEquals(8, d.withDifficulty(DhaOptions.Difficulty.RECONSTRUCTION).maxHeads(8, 2));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> d.withProbeTokens(1));
        assertEquals("--probe-tokens must be at least 2, got 1", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> d.check(8, 9));
        assertEquals("DHA budget of 9 kv heads exceeds the model's 8 heads per layer", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> d.withRange(2, 4).check(8, 1));
        assertEquals("DHA budget of 1 kv heads is outside the per-layer range [2, 2]", e.getMessage());
    }

    @Test void unknownNamesAndForeignOptionsAreRefused() {
        IllegalArgumentException unknown = assertThrows(IllegalArgumentException.class, () -> Strategies.defaults("kmeans"));
        assertEquals("unknown strategy 'kmeans' (known: mean, asym, dha)", unknown.getMessage());
        record Lying() implements StrategyOptions {
            @Override public String strategy() { return "asym"; }
        }
        assertThrows(IllegalArgumentException.class, () -> Strategies.create(new Lying()));
        assertInstanceOf(MeanPoolStrategy.class, Strategies.create(new MeanOptions()));
    }
}
