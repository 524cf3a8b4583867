package io.headfuse.testkit;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.opentest4j.AssertionFailedError;
import org.opentest4j.TestAbortedException;

/** The CI switch: a missing asset skips a developer's run and fails a run that requires the assets. */
class AssetsTest {
    private final String before = System.getProperty("headfuse.requireAssets");

    @AfterEach
    void restore() {
        if (before == null) System.clearProperty("headfuse.requireAssets");
        else System.setProperty("headfuse.requireAssets", before);
    }

    @Test
    void missingAssetFailsWhenRequired() {
        System.setProperty("headfuse.requireAssets", "true");
        var e = assertThrows(AssertionFailedError.class, () -> Assets.require("models/no-such-model-anywhere"));
        assertTrue(e.getMessage().contains("no-such-model-anywhere"), e.getMessage());
    }

    @Test
    void missingAssetSkipsWhenNotRequired() {
        System.setProperty("headfuse.requireAssets", "false");
        assertThrows(TestAbortedException.class, () -> Assets.require("models/no-such-model-anywhere"));
    }
}
