package io.headfuse.fusion;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Supplier;

/** The strategies headfuse knows, by command-line name. */
public final class Strategies {
    private static final Map<String, Supplier<FusionStrategy>> KNOWN = new LinkedHashMap<>();

    static {
        register("mean", MeanPoolStrategy::new);
        register(io.headfuse.fusion.asym.AsymStrategy.NAME, io.headfuse.fusion.asym.AsymStrategy::new);
        register(io.headfuse.fusion.dha.DhaStrategy.NAME, io.headfuse.fusion.dha.DhaStrategy::new);
    }

    private Strategies() {}

    public static synchronized void register(String name, Supplier<FusionStrategy> factory) { KNOWN.put(name, factory); }

    public static synchronized FusionStrategy byName(String name) {
        Supplier<FusionStrategy> f = KNOWN.get(name);
        if (f == null) throw new IllegalArgumentException("unknown strategy '" + name + "' (known: " + String.join(", ", KNOWN.keySet()) + ")");
        return f.get();
    }
}
