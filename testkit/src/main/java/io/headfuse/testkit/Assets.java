package io.headfuse.testkit;

import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The shared test assets (real checkpoints, text and reference numbers, never committed to the repo): system
 * property {@code headfuse.assets} (surefire sets it), else env {@code HEADFUSE_ASSETS}, else
 * {@code ../shared/assets} seen from the working directory or its parent (Maven runs a module's tests inside the
 * module folder). A test that needs a missing asset is skipped with a message saying where it looked, so a
 * developer's plain {@code mvn test} works without them; CI sets {@code HEADFUSE_REQUIRE_ASSETS=1} (or
 * {@code -Dheadfuse.requireAssets=true}) and a missing asset fails instead, so a CI without assets cannot go green.
 */
public final class Assets {
    private static final ObjectMapper JSON = new ObjectMapper();

    private Assets() {}

    public static Path root() {
        for (String c : new String[] {System.getProperty("headfuse.assets"), System.getenv("HEADFUSE_ASSETS"), "../shared/assets", "../../shared/assets"}) {
            if (c != null && Files.isDirectory(Path.of(c))) return Path.of(c).toAbsolutePath().normalize();
        }
        missing("test assets not found (../shared/assets beside the checkout, or -Dheadfuse.assets)");
        throw new IllegalStateException("unreachable");
    }

    /** Whether a missing asset fails the test (CI) rather than skipping it (a developer's plain run). */
    public static boolean required() {
        String p = System.getProperty("headfuse.requireAssets");
        if (p != null && !p.isBlank()) return Boolean.parseBoolean(p.strip());
        String e = System.getenv("HEADFUSE_REQUIRE_ASSETS");
        return e != null && (e.strip().equals("1") || e.strip().equalsIgnoreCase("true"));
    }

    private static void missing(String what) {
        if (required()) fail(what + ", and HEADFUSE_REQUIRE_ASSETS / -Dheadfuse.requireAssets asks for them");
        assumeTrue(false, what + ": skipping; CI has them");
    }

    /** A file or folder under the assets; skips the calling test when it is missing. */
    public static Path require(String relative) {
        Path p = root().resolve(relative);
        if (!Files.exists(p)) missing("test asset " + p + " not found");
        return p;
    }

    public static Path model(String name) { return require("models/" + name); }

    public static Path text(String relative) { return require("text/" + relative); }

    public static Path reference(String name) { return require("reference/" + name); }

    public static JsonNode json(Path file) throws IOException { return JSON.readTree(file.toFile()); }

    public static int[] ints(JsonNode array) {
        int[] out = new int[array.size()];
        for (int i = 0; i < out.length; i++) out[i] = array.get(i).asInt();
        return out;
    }

    /** A raw little-endian fp32 file (golden logits). */
    public static float[] floats(Path file) throws IOException {
        ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(file)).order(ByteOrder.LITTLE_ENDIAN);
        float[] out = new float[b.remaining() / 4];
        b.asFloatBuffer().get(out);
        return out;
    }
}
