package io.headfuse.converter.asym;

import io.headfuse.formats.AssetPaths;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Assumptions;

/** The shared assets, or a skipped test when they are absent. */
final class AsymAssets {
    private AsymAssets() {}

    static Path require(String relative) {
        Path p = AssetPaths.root().map(r -> r.resolve(relative)).orElse(Path.of("../shared/assets", relative));
        Assumptions.assumeTrue(Files.exists(p), "test assets not found at " + p.toAbsolutePath() + ": skipping");
        return p;
    }

    static Path model(String name) { return require("models/" + name); }

    static Path sotu() { return require("text/sotu/sotu-1790-2021.txt"); }

    static Path mobyDick() { return require("text/moby-dick/moby-dick.txt"); }
}
