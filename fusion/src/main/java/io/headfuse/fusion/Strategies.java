package io.headfuse.fusion;

import io.headfuse.fusion.asym.AsymStrategy;
import io.headfuse.fusion.dha.DhaOptions;
import io.headfuse.fusion.dha.DhaStrategy;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * The strategies headfuse knows, by command-line name: each with its options record, the defaults of that record,
 * and how to build the strategy from it. Adding a strategy = one options record, one strategy class, one
 * {@link #register} call (and its flags in the CLI).
 */
public final class Strategies {
    private record Entry<O extends StrategyOptions>(Class<O> type, O defaults, Function<O, FusionStrategy> factory) {
        FusionStrategy create(StrategyOptions o) { return factory.apply(type.cast(o)); }
    }

    private static final Map<String, Entry<?>> KNOWN = new LinkedHashMap<>();

    static {
        register(MeanOptions.class, new MeanOptions(), o -> new MeanPoolStrategy());
        register(AsymStrategy.Settings.class, AsymStrategy.Settings.defaults(), AsymStrategy::new);
        register(DhaOptions.class, DhaOptions.defaults(), DhaStrategy::new);
    }

    private Strategies() {}

    public static synchronized <O extends StrategyOptions> void register(Class<O> type, O defaults, Function<O, FusionStrategy> factory) {
        KNOWN.put(defaults.strategy(), new Entry<>(type, defaults, factory));
    }

    /** The default options of the named strategy; an unknown name is an {@link IllegalArgumentException}. */
    public static synchronized StrategyOptions defaults(String name) { return entry(name).defaults(); }

    /** The strategy configured by {@code options}. */
    public static synchronized FusionStrategy create(StrategyOptions options) {
        Entry<?> e = entry(options.strategy());
        if (!e.type().isInstance(options))
            throw new IllegalArgumentException("strategy " + options.strategy() + " takes " + e.type().getSimpleName() + ", not " + options.getClass().getSimpleName());
        return e.create(options);
    }

    /** The named strategy with its default options. */
    public static FusionStrategy byName(String name) { return create(defaults(name)); }

    public static synchronized List<String> names() { return List.copyOf(KNOWN.keySet()); }

    private static Entry<?> entry(String name) {
        Entry<?> e = KNOWN.get(name);
        if (e == null) throw new IllegalArgumentException("unknown strategy '" + name + "' (known: " + String.join(", ", KNOWN.keySet()) + ")");
        return e;
    }
}
