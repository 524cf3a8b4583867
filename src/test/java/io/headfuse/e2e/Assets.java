package io.headfuse.e2e;

import io.headfuse.formats.AssetPaths;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Assumptions;

/** Test access to the shared assets: skips the calling test with a message when they are absent. */
final class Assets {
    private Assets() {}

    static Path require(String relative) {
        Path p = AssetPaths.root().map(r -> r.resolve(relative)).orElse(Path.of("../shared/assets", relative));
        Assumptions.assumeTrue(Files.exists(p), "test assets not found at " + p.toAbsolutePath() + ": skipping (CI has ../shared/assets)");
        return p;
    }

    static Path model(String name) { return require("models/" + name); }
}
