package io.headfuse.formats;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Assumptions;

/** Test access to the shared assets: skips the calling test with a message when they are absent. */
public final class Assets {
    private Assets() {}

    public static Path require(String relative) {
        Path p = AssetPaths.root().map(r -> r.resolve(relative)).orElse(Path.of("../shared/assets", relative));
        Assumptions.assumeTrue(Files.exists(p), "test assets not found at " + p.toAbsolutePath() + ": skipping (CI has ../shared/assets)");
        return p;
    }

    public static Path model(String name) { return require("models/" + name); }
}
