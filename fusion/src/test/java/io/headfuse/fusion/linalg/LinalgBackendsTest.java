package io.headfuse.fusion.linalg;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The setting picks the backend; auto picks ND4J where it loads (it does on this build's class path). */
class LinalgBackendsTest {
    private final String saved = System.getProperty(LinalgBackends.PROPERTY);

    @AfterEach void restore() {
        if (saved == null) System.clearProperty(LinalgBackends.PROPERTY);
        else System.setProperty(LinalgBackends.PROPERTY, saved);
    }

    private static LinalgBackend with(String value) {
        System.setProperty(LinalgBackends.PROPERTY, value);
        return LinalgBackends.choose();
    }

    @Test void forcedJava() { assertInstanceOf(JavaBackend.class, with(" Java ")); }

    @Test void forcedNd4j() { assertEquals("nd4j", with("nd4j").name()); }

    @Test void autoPrefersNd4jWhereItLoads() {
        if (System.getenv(LinalgBackends.ENV) != null) return; // the environment would decide instead of auto
        assertEquals("nd4j", with("auto").name());
    }

    @Test void unknownValueIsRefusedWithTheChoices() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> with("cuda"));
        assertEquals("HEADFUSE_LINALG=cuda: expected nd4j, java, auto", e.getMessage());
    }
}
