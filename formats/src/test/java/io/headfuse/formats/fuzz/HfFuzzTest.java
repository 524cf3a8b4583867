package io.headfuse.formats.fuzz;

import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.headfuse.formats.fuzz.FuzzHarness.Oracle;
import io.headfuse.formats.fuzz.FuzzHarness.Seen;
import io.headfuse.formats.fuzz.FuzzHarness.Special;
import io.headfuse.testkit.Assets;
import java.io.IOException;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Seeded fuzzing of HF checkpoints: mutated safetensors headers (JSON edits and raw bytes), configs and index
 * files, and non-files (folders, FIFOs, /dev/zero links) where a file is expected, starting from the real
 * stories260K-mha-hf (one file) and headfuse-mha-s (two shards and an index). Every case reads correctly, with
 * the original's tensors, or is refused by a one-line CheckpointException naming a file of the case.
 */
class HfFuzzTest {
    private static final long SEED = 0x4846_5a5aL;
    private static final List<String> CONFIG_KEYS = List.of("num_hidden_layers", "rope_theta", "rms_norm_eps", "max_position_embeddings",
            "hidden_size", "num_attention_heads", "num_key_value_heads", "intermediate_size", "vocab_size", "head_dim", "tie_word_embeddings",
            "attention_bias", "torch_dtype", "dtype", "hidden_act", "rope_parameters", "rope_scaling", "headfuse", "bos_token_id");

    @TempDir Path tmp;

    private Mutations mut;

    /** A safetensors file split into its header JSON and its data section. */
    private record Parsed(ObjectNode header, byte[] data) {
        static Parsed of(Path file) throws IOException {
            byte[] all = Files.readAllBytes(file);
            long len = ByteBuffer.wrap(all, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
            ObjectNode h = (ObjectNode) Mutations.JSON.readTree(new String(all, 8, (int) len, StandardCharsets.UTF_8));
            return new Parsed(h, Arrays.copyOfRange(all, 8 + (int) len, all.length));
        }
    }

    @Test
    void mutatedHeadersConfigsAndIndexesReadCorrectlyOrFailNamingTheFile() throws IOException {
        Path stories = copy(Assets.model("stories260K-mha-hf"), "stories");
        Path small = copy(Assets.model("headfuse-mha-s"), "small");
        Map<String, Seen> storiesTensors = FuzzHarness.readEverything(stories), smallTensors = FuzzHarness.readEverything(small);
        Parsed st = Parsed.of(stories.resolve("model.safetensors"));
        ObjectNode storiesConfig = (ObjectNode) Mutations.JSON.readTree(stories.resolve("config.json").toFile());
        ObjectNode smallConfig = (ObjectNode) Mutations.JSON.readTree(small.resolve("config.json").toFile());
        ObjectNode index = (ObjectNode) Mutations.JSON.readTree(small.resolve("model.safetensors.index.json").toFile());
        mut = new Mutations(new Random(SEED));

        FuzzHarness headers = new FuzzHarness("safetensors headers (JSON edits)");
        for (int i = 0; i < 400; i++) {
            Path dir = FuzzHarness.caseDir(tmp, "h" + i, stories, "model.safetensors");
            ObjectNode h = st.header().deepCopy();
            String what = editHeader(h);
            byte[] header = h.toString().getBytes(StandardCharsets.UTF_8);
            writeSafetensors(dir.resolve("model.safetensors"), header, header.length, st.data());
            headers.run("h" + i + " (" + what + ")", dir, dir, storiesTensors, Oracle.SAME_BYTES);
            FuzzHarness.deleteTree(dir);
        }
        FuzzHarness raw = new FuzzHarness("safetensors headers (raw bytes)");
        for (int i = 0; i < 200; i++) {
            Path dir = FuzzHarness.caseDir(tmp, "b" + i, stories, "model.safetensors");
            String what = writeRawMutation(dir.resolve("model.safetensors"), st);
            raw.run("b" + i + " (" + what + ")", dir, dir, storiesTensors, Oracle.SAME_BYTES);
            FuzzHarness.deleteTree(dir);
        }
        FuzzHarness configs = new FuzzHarness("config.json");
        for (int i = 0; i < 250; i++) {
            boolean useSmall = i % 2 == 0;
            Path base = useSmall ? small : stories;
            Path dir = FuzzHarness.caseDir(tmp, "c" + i, base, "config.json");
            ObjectNode c = (useSmall ? smallConfig : storiesConfig).deepCopy();
            String what = "";
            if (mut.chance(0.7)) {
                for (int k = 0, n = 1 + mut.nextInt(2); k < n; k++) what += mut.mutateObject(c, CONFIG_KEYS) + " ";
                Files.write(dir.resolve("config.json"), c.toString().getBytes(StandardCharsets.UTF_8));
            } else {
                Files.write(dir.resolve("config.json"), mut.mutateText(c));
                what = mut.lastText();
            }
            configs.run("c" + i + " (" + what + ")", dir, dir, useSmall ? smallTensors : storiesTensors, Oracle.SAME_BYTES);
            FuzzHarness.deleteTree(dir);
        }
        FuzzHarness indexes = new FuzzHarness("model.safetensors.index.json");
        for (int i = 0; i < 150; i++) {
            Path dir = FuzzHarness.caseDir(tmp, "x" + i, small, "model.safetensors.index.json");
            String what = writeIndexMutation(dir.resolve("model.safetensors.index.json"), index.deepCopy());
            indexes.run("x" + i + " (" + what + ")", dir, dir, smallTensors, Oracle.SAME_BYTES);
            FuzzHarness.deleteTree(dir);
        }
        FuzzHarness specials = new FuzzHarness("HF non-files (folder, FIFO, /dev/zero, ...)");
        int i = 0;
        for (String file : List.of("config.json", "model.safetensors.index.json", "model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"))
            for (Special kind : Special.values()) {
                Path dir = FuzzHarness.caseDir(tmp, "s" + i, small, file);
                if (FuzzHarness.makeSpecial(dir.resolve(file), kind)) specials.run("s" + i + " (" + file + " as " + kind + ")", dir, dir, smallTensors, Oracle.SAME_BYTES);
                FuzzHarness.deleteTree(dir);
                i++;
            }
        for (Special kind : Special.values()) {
            Path dir = FuzzHarness.caseDir(tmp, "s" + i, stories, "model.safetensors");
            if (FuzzHarness.makeSpecial(dir.resolve("model.safetensors"), kind)) specials.run("s" + i + " (model.safetensors as " + kind + ")", dir, dir, storiesTensors, Oracle.SAME_BYTES);
            FuzzHarness.deleteTree(dir);
            i++;
        }

        int total = 0;
        for (FuzzHarness h : List.of(headers, raw, configs, indexes, specials)) total += h.report();
        System.out.printf("fuzz %-40s cases %5d%n", "HF total (headers, indexes, configs)", total);
        assertTrue(total >= 1000, "at least 1,000 HF cases: " + total);
        // The fuzzer must exercise both outcomes, or it is not testing the reader.
        assertTrue(headers.accepted() > 0 && headers.refused() > 0 && configs.accepted() > 0 && configs.refused() > 0, "both outcomes seen");
        assertTrue(specials.refused() == specials.cases(), "every non-file is refused");
    }

    private Path copy(Path from, String name) throws IOException {
        Path to = Files.createDirectories(tmp.resolve(name));
        try (var files = Files.list(from)) {
            for (Path f : files.toList()) Files.copy(f, to.resolve(f.getFileName()));
        }
        return to;
    }

    /** One edit of a header: a tensor's dtype, shape or offsets, its name, the metadata, or the layout of the JSON. */
    private String editHeader(ObjectNode h) {
        List<String> names = new ArrayList<>(Mutations.iterable(h.fieldNames()));
        names.remove("__metadata__");
        String name = mut.pick(names);
        ObjectNode t = (ObjectNode) h.get(name);
        ArrayNode shape = (ArrayNode) t.get("shape");
        ArrayNode off = (ArrayNode) t.get("data_offsets");
        long begin = off.get(0).asLong(), end = off.get(1).asLong();
        String what = name + ": ";
        switch (mut.nextInt(14)) {
            case 0 -> { t.set("dtype", mut.chance(0.5) ? mut.hostileValue() : Mutations.JSON.getNodeFactory().textNode(mut.pick(List.of("F16", "BF16", "I32", "I64", "U8", "BOOL", "F64", "F8_E4M3", "f32")))); what += "dtype " + t.get("dtype"); }
            case 1 -> { // a dimension: hostile, beyond 2^63, the product overflowing, or reshaped with the same byte count
                switch (mut.nextInt(5)) {
                    case 0 -> t.set("shape", Mutations.JSON.createArrayNode());
                    case 1 -> t.set("shape", Mutations.longs(1L << 40, 1L << 40));
                    case 2 -> { ArrayNode s = shape.deepCopy(); s.set(0, Mutations.JSON.getNodeFactory().numberNode(BigInteger.ONE.shiftLeft(64).add(BigInteger.valueOf(shape.get(0).asLong())))); t.set("shape", s); }
                    case 3 -> { ArrayNode s = Mutations.JSON.createArrayNode(); for (int k = shape.size() - 1; k >= 0; k--) s.add(shape.get(k)); t.set("shape", s); }
                    default -> { ArrayNode s = shape.deepCopy(); s.set(mut.nextInt(s.size()), mut.hostileValue()); t.set("shape", s); }
                }
                what += "shape " + t.get("shape");
            }
            case 2, 3 -> { // offsets: off by one, swapped, beyond 2^63, wrapped
                JsonNode[] choices = {
                    Mutations.longs(begin + 1, end + 1), Mutations.longs(begin - 1, end - 1), Mutations.longs(begin, end + 1), Mutations.longs(end, begin),
                    Mutations.longs(begin + 4, end), Mutations.longs(0, end - begin),
                    Mutations.JSON.createArrayNode().add(new BigInteger("18446744073709551615")).add(new BigInteger("18446744073709551615")),
                    Mutations.JSON.createArrayNode().add(BigInteger.ONE.shiftLeft(64).add(BigInteger.valueOf(begin))).add(BigInteger.ONE.shiftLeft(64).add(BigInteger.valueOf(end))),
                    Mutations.longs(begin), mut.hostileValue(), Mutations.JSON.createArrayNode().add(begin).add(end + 0.5)};
                t.set("data_offsets", choices[mut.nextInt(choices.length)]);
                what += "data_offsets " + t.get("data_offsets");
            }
            case 4 -> { h.remove(name); what += "removed"; }
            case 5 -> { h.set(name + ".copy", t.deepCopy()); what += "stored twice (overlap)"; }
            case 6 -> { // renamed: aliasing layer numbers, huge layer numbers, a layer beyond the config
                String newName = name.startsWith("model.layers.")
                        ? name.replaceFirst("model\\.layers\\.(\\d+)\\.", mut.pick(List.of("model.layers.0$1.", "model.layers.99999999999.", "model.layers.5.", "model.layers.+$1.", "model.layers.$1$1.")))
                        : mut.pick(List.of("lm_head.weight", "model.layers.00.input_layernorm.weight", "x"));
                h.remove(name);
                h.set(newName, t);
                what += "renamed " + newName;
            }
            case 7 -> { h.set("__metadata__", mut.chance(0.5) ? mut.hostileValue() : Mutations.JSON.createObjectNode().put("format", 1)); what = "__metadata__ " + h.get("__metadata__"); }
            case 8 -> { h.set(name, mut.hostileValue()); what += "entry " + h.get(name); }
            case 9 -> { t.remove(mut.pick(List.of("dtype", "shape", "data_offsets"))); what += "a key removed"; }
            case 10 -> { t.put("extra", 1); what += "an extra key (harmless)"; }
            case 11 -> { ObjectNode s = mut.shuffled(h); h.removeAll(); h.setAll(s); what = "keys shuffled (harmless)"; }
            case 12 -> { // an integer tensor added at the end of the data: stored layers, a dtype that must be float
                t.put("dtype", mut.pick(List.of("I32", "U8", "I16")));
                if (t.get("dtype").asText().equals("U8")) { ArrayNode s = shape.deepCopy(); s.set(s.size() - 1, s.get(s.size() - 1).asLong() * 4); t.set("shape", s); }
                else if (t.get("dtype").asText().equals("I16")) { ArrayNode s = shape.deepCopy(); s.set(s.size() - 1, s.get(s.size() - 1).asLong() * 2); t.set("shape", s); }
                what += "integer dtype " + t.get("dtype") + " " + t.get("shape");
            }
            default -> { h.set("model.layers.0.extra.weight", Mutations.JSON.createObjectNode().put("dtype", "F32").<ObjectNode>set("shape", Mutations.longs(0)).set("data_offsets", Mutations.longs(0, 0))); what = "an empty extra tensor at 0"; }
        }
        return what;
    }

    /** Writes the 8-byte length {@code length}, the header bytes and the data section. */
    private static void writeSafetensors(Path file, byte[] header, long length, byte[] data) throws IOException {
        ByteBuffer len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(length);
        try (var out = Files.newOutputStream(file)) {
            out.write(len.array());
            out.write(header);
            out.write(data);
        }
    }

    /**
     * Raw edits of a safetensors file: the length off by one or wild, bytes flipped in the length or the header,
     * garbage or space padding after the JSON, the file truncated or grown.
     */
    private String writeRawMutation(Path file, Parsed st) throws IOException {
        byte[] header = st.header().toString().getBytes(StandardCharsets.UTF_8);
        switch (mut.nextInt(9)) {
            case 0 -> { long d = mut.pick(List.of(-1L, 1L, -8L, 8L, 2L)); writeSafetensors(file, header, header.length + d, st.data()); return "length " + (d > 0 ? "+" : "") + d; }
            case 1 -> { long l = mut.pick(List.of(0L, 1L, 2L, -1L, Long.MAX_VALUE, 1L << 32, 100_000_001L, (long) Integer.MAX_VALUE)); writeSafetensors(file, header, l, st.data()); return "length " + l; }
            case 2 -> { byte[] h = mut.flip(header, 1 + mut.nextInt(3)); writeSafetensors(file, h, h.length, st.data()); return "header bytes flipped"; }
            case 3 -> { byte[] h = (new String(header, StandardCharsets.UTF_8) + mut.pick(List.of("x", "}", "{}", "\u0000", "[1]"))).getBytes(StandardCharsets.UTF_8); writeSafetensors(file, h, h.length, st.data()); return "garbage after the JSON"; }
            case 4 -> { byte[] h = (new String(header, StandardCharsets.UTF_8) + " ".repeat(1 + mut.nextInt(8))).getBytes(StandardCharsets.UTF_8); writeSafetensors(file, h, h.length, st.data()); return "space padding (harmless)"; }
            case 5 -> { byte[] d = Arrays.copyOf(st.data(), st.data().length - 1 - mut.nextInt(16)); writeSafetensors(file, header, header.length, d); return "data truncated"; }
            case 6 -> { byte[] d = Arrays.copyOf(st.data(), st.data().length + 1 + mut.nextInt(16)); writeSafetensors(file, header, header.length, d); return "bytes after the data"; }
            case 7 -> { Files.write(file, Arrays.copyOf(header, mut.nextInt(Math.min(header.length, 12)))); return "file of a few bytes"; }
            default -> { // flip a byte of the length field itself
                byte[] all = new byte[8 + header.length + st.data().length];
                ByteBuffer.wrap(all).order(ByteOrder.LITTLE_ENDIAN).putLong(header.length).put(header).put(st.data());
                all[mut.nextInt(8)] ^= (byte) (1 + mut.nextInt(255));
                Files.write(file, all);
                return "length bytes flipped";
            }
        }
    }

    /** One edit of the index: a shard name that escapes, is missing or wrong, an entry removed or added, or its text. */
    private String writeIndexMutation(Path file, ObjectNode index) throws IOException {
        ObjectNode wm = (ObjectNode) index.get("weight_map");
        List<String> names = new ArrayList<>(Mutations.iterable(wm.fieldNames()));
        String name = mut.pick(names);
        String what;
        switch (mut.nextInt(8)) {
            case 0 -> { wm.put(name, mut.pick(List.of("../small/model-00001-of-00002.safetensors", "missing.safetensors", "", ".hidden.safetensors", "model-00002-of-00002.safetensors", "model-00001-of-00002.safetensors", "config.json", "/etc/passwd"))); what = name + " -> " + wm.get(name); }
            case 1 -> { wm.set(name, mut.hostileValue()); what = name + " -> " + wm.get(name); }
            case 2 -> { wm.remove(name); what = name + " removed"; }
            case 3 -> { wm.put(mut.pick(List.of("model.layers.00.input_layernorm.weight", "model.layers.99999999999.x", "extra.weight")), "model-00001-of-00002.safetensors"); what = "an entry added"; }
            case 4 -> { index.set("weight_map", mut.hostileValue()); what = "weight_map " + index.get("weight_map"); }
            case 5 -> { index.set("metadata", mut.hostileValue()); what = "metadata (harmless)"; }
            default -> { Files.write(file, mut.mutateText(index)); return mut.lastText(); }
        }
        Files.write(file, index.toString().getBytes(StandardCharsets.UTF_8));
        return what;
    }
}
