package io.headfuse.formats;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Assumptions;

/** The shared test assets (../shared/assets beside the checkout); tests that need them skip with a message when absent. */
public final class Assets {
    private Assets() {}

    public static Path root() {
        String prop = System.getProperty("headfuse.assets");
        Path p = prop != null ? Path.of(prop) : Path.of("..", "shared", "assets");
        if (!Files.isDirectory(p)) p = Path.of("..", "..", "shared", "assets");
        return p;
    }

    /** A path under the assets, skipping the calling test when the assets are not there. */
    public static Path require(String relative) {
        Path p = root().resolve(relative);
        Assumptions.assumeTrue(Files.exists(p), "test assets not found at " + p.toAbsolutePath() + ": skipping (CI has ../shared/assets)");
        return p;
    }

    public static Path model(String name) { return require("models/" + name); }
}
