package io.headfuse.fusion.linalg;

import java.util.ArrayList;
import java.util.List;
import java.util.ServiceLoader;
import java.util.Locale;

/**
 * Which {@link LinalgBackend} runs: {@code HEADFUSE_LINALG} (or {@code -Dheadfuse.linalg}, which wins) forces
 * {@code nd4j} or {@code java}; unset or {@code auto}, ND4J where its classes and native library load, plain Java
 * otherwise. The choice is made once, on first use, and announced in one line on stderr so a run's log says which
 * arithmetic produced its numbers.
 */
public final class LinalgBackends {
    public static final String ENV = "HEADFUSE_LINALG";
    public static final String PROPERTY = "headfuse.linalg";
    /** Loaded by name only: referencing the class would make the JVM resolve ND4J on the fallback path too. */
    private static final String ND4J_CLASS = "io.headfuse.fusion.linalg.Nd4jBackend";

    private LinalgBackends() {}

    /** The backend the setting asks for; announces it on stderr. */
    public static LinalgBackend choose() {
        String setting = setting();
        LinalgBackend b;
        String why = " (" + (System.getProperty(PROPERTY) != null && !System.getProperty(PROPERTY).isBlank() ? "-D" + PROPERTY : ENV) + "=" + setting + ")";
        switch (setting) {
            case "java" -> b = new JavaBackend();
            case "nd4j" -> {
                try {
                    b = nd4j();
                } catch (ReflectiveOperationException | LinkageError | RuntimeException e) {
                    throw new IllegalStateException(ENV + "=nd4j, but ND4J does not load: " + reason(e), e);
                }
            }
            case "auto" -> {
                try {
                    b = nd4j();
                    why = "";
                } catch (ReflectiveOperationException | LinkageError | RuntimeException e) {
                    b = new JavaBackend();
                    why = " (ND4J unavailable: " + reason(e) + ")";
                }
            }
            default -> b = provided(setting);
        }
        System.err.println("headfuse: linear algebra on " + describe(b) + why);
        return b;
    }

    /**
     * A backend another module provides through {@link ServiceLoader} under {@code name} (the converter's
     * {@code torch}: products on libtorch, which the fusion module does not depend on).
     */
    static LinalgBackend provided(String name) {
        List<String> names = new ArrayList<>();
        for (LinalgBackend b : ServiceLoader.load(LinalgBackend.class)) {
            if (b.name().equals(name)) return b;
            names.add(b.name());
        }
        throw new IllegalArgumentException(ENV + "=" + name + ": expected nd4j, java, auto" + names.stream().map(n -> ", " + n).reduce("", String::concat));
    }

    /** The property, else the environment variable, else auto; lower case. */
    static String setting() {
        String s = System.getProperty(PROPERTY);
        if (s == null || s.isBlank()) s = System.getenv(ENV);
        return s == null || s.isBlank() ? "auto" : s.trim().toLowerCase(Locale.ROOT);
    }

    /** ND4J's backend, loaded reflectively; its constructor runs a tiny product so a missing native fails here. */
    public static LinalgBackend nd4j() throws ReflectiveOperationException {
        try {
            return (LinalgBackend) Class.forName(ND4J_CLASS).getConstructor().newInstance();
        } catch (java.lang.reflect.InvocationTargetException e) {
            if (e.getCause() instanceof RuntimeException r) throw r;
            if (e.getCause() instanceof LinkageError l) throw l;
            throw e;
        }
    }

    static String describe(LinalgBackend b) {
        if (b instanceof JavaBackend) return "plain Java on " + threads() + " threads";
        return b.name().equals("nd4j") ? "ND4J (native BLAS and LAPACK)" : b.toString();
    }

    private static int threads() { return java.util.concurrent.ForkJoinPool.getCommonPoolParallelism() + 1; }

    private static String reason(Throwable e) {
        Throwable root = e;
        while (root.getCause() != null && root.getCause() != root) root = root.getCause();
        String msg = root.getMessage();
        if (root instanceof ClassNotFoundException || root instanceof NoClassDefFoundError)
            return "no ND4J classes on the class path (" + msg + ")";
        return root.getClass().getSimpleName() + (msg == null ? "" : ": " + msg.lines().findFirst().orElse(""));
    }
}
