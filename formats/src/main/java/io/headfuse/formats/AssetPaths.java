package io.headfuse.formats;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * Where the shared test and benchmark assets are (real checkpoints and text, never committed to the repo):
 * system property {@code headfuse.assets}, else env {@code HEADFUSE_ASSETS}, else {@code ../shared/assets}
 * beside the checkout (looked for from the working directory and its parent, since Maven runs module tests
 * inside the module folder).
 */
public final class AssetPaths {
    private AssetPaths() {}

    public static Optional<Path> root() {
        for (String c : new String[] {System.getProperty("headfuse.assets"), System.getenv("HEADFUSE_ASSETS"), "../shared/assets", "../../shared/assets"}) {
            if (c != null && Files.isDirectory(Path.of(c))) return Optional.of(Path.of(c).toAbsolutePath().normalize());
        }
        return Optional.empty();
    }
}
