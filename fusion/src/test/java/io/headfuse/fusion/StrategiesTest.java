package io.headfuse.fusion;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.headfuse.fusion.asym.AsymOptions;
import io.headfuse.fusion.asym.AsymStrategy;
import io.headfuse.fusion.asym.LinearCka;
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

    @Test void unknownNamesAndForeignOptionsAreRefused() {
        IllegalArgumentException unknown = assertThrows(IllegalArgumentException.class, () -> Strategies.defaults("kmeans"));
        assertEquals("unknown strategy 'kmeans' (known: mean, asym)", unknown.getMessage());
        record Lying() implements StrategyOptions {
            @Override public String strategy() { return "asym"; }
        }
        assertThrows(IllegalArgumentException.class, () -> Strategies.create(new Lying()));
        assertInstanceOf(MeanPoolStrategy.class, Strategies.create(new MeanOptions()));
    }
}
