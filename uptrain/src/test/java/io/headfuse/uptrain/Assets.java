package io.headfuse.uptrain;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;

/** The shared test assets (system property headfuse.assets, else ../shared/assets); tests skip when absent. */
public final class Assets {
    private static final ObjectMapper JSON = new ObjectMapper();

    private Assets() {}

    public static Path root() {
        String p = System.getProperty("headfuse.assets");
        Path root = p != null ? Path.of(p) : Path.of("/work/main/../shared/assets");
        assumeTrue(Files.isDirectory(root), "test assets not found at " + root);
        return root;
    }

    public static Path model(String name) {
        Path m = root().resolve("models").resolve(name);
        assumeTrue(Files.exists(m), "asset model " + name + " not found");
        return m;
    }

    public static Path text(String relative) {
        Path t = root().resolve("text").resolve(relative);
        assumeTrue(Files.exists(t), "asset text " + relative + " not found");
        return t;
    }

    public static Path reference(String name) {
        Path r = root().resolve("reference").resolve(name);
        assumeTrue(Files.exists(r), "reference " + name + " not found");
        return r;
    }

    public static JsonNode json(Path file) throws IOException { return JSON.readTree(file.toFile()); }

    public static int[] ints(JsonNode array) {
        int[] out = new int[array.size()];
        for (int i = 0; i < out.length; i++) out[i] = array.get(i).asInt();
        return out;
    }

    /** Raw little-endian fp32. */
    public static float[] floats(Path file) throws IOException {
        ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(file)).order(ByteOrder.LITTLE_ENDIAN);
        float[] out = new float[b.remaining() / 4];
        b.asFloatBuffer().get(out);
        return out;
    }
}
