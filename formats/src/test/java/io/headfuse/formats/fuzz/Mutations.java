package io.headfuse.formats.fuzz;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;

/** Seeded mutations of JSON documents and byte arrays: the values and edits that broke the readers before. */
final class Mutations {
    static final ObjectMapper JSON = new ObjectMapper();
    private static final JsonNodeFactory F = JsonNodeFactory.instance;

    private final Random rnd;
    private int lastText;

    /** What the last {@link #mutateText} did, for case descriptions. */
    String lastText() {
        return List.of("trailing garbage", "truncated", "duplicate key", "bytes flipped", "NaN", "pretty-printed (harmless)",
                "keys shuffled (harmless)", "byte order mark (harmless: skipped)", "trailing whitespace (harmless)").get(lastText);
    }

    Mutations(Random rnd) { this.rnd = rnd; }

    int nextInt(int bound) { return rnd.nextInt(bound); }

    boolean chance(double p) { return rnd.nextDouble() < p; }

    <T> T pick(List<T> items) { return items.get(rnd.nextInt(items.size())); }

    /** Values that are wrong in some way for most keys: huge, negative, zero, wrong type, beyond 2^63, empty. */
    JsonNode hostileValue() {
        return switch (rnd.nextInt(24)) {
            case 0 -> F.numberNode(0);
            case 1 -> F.numberNode(-1);
            case 2 -> F.numberNode(Integer.MAX_VALUE);
            case 3 -> F.numberNode((long) Integer.MAX_VALUE + 1);
            case 4 -> F.numberNode(Long.MAX_VALUE);
            case 5 -> F.numberNode(BigInteger.ONE.shiftLeft(63).add(BigInteger.valueOf(rnd.nextInt(100))));
            case 6 -> F.numberNode(BigInteger.ONE.shiftLeft(64).subtract(BigInteger.ONE));
            case 7 -> F.numberNode(1.5);
            case 8 -> F.textNode("abc");
            case 9 -> F.textNode("8");
            case 10 -> F.arrayNode().add(1);
            case 11 -> F.objectNode();
            case 12 -> F.nullNode();
            case 13 -> F.booleanNode(rnd.nextBoolean());
            case 14 -> F.numberNode(1L << 40);
            case 15 -> F.numberNode(-1e-5);
            case 16 -> F.numberNode(1 + rnd.nextInt(16));
            case 17 -> F.numberNode(3);
            case 18 -> F.numberNode(1e300);
            case 19 -> F.textNode("");
            case 20 -> F.numberNode(Integer.MIN_VALUE);
            case 21 -> F.numberNode(2 * (1 + rnd.nextInt(64)));
            case 22 -> F.numberNode(10000.0 * (1 + rnd.nextInt(5)));
            default -> F.numberNode(rnd.nextInt(1024));
        };
    }

    /** One edit of a JSON object: a key set to a hostile value, removed, or (rarely) a harmless new key. */
    String mutateObject(ObjectNode obj, List<String> keys) {
        String key = pick(keys);
        switch (rnd.nextInt(10)) {
            case 0 -> { obj.remove(key); return key + " removed"; }
            case 1 -> { obj.put("unknown_key_" + rnd.nextInt(100), rnd.nextInt(10)); return "an unknown key (harmless)"; }
            default -> { obj.set(key, hostileValue()); return key + "=" + obj.get(key); }
        }
    }

    /**
     * Text-level edits a JSON parser must catch: trailing garbage, a truncated document, a duplicated key, a
     * flipped byte, a NaN, or a harmless reformat (pretty-printed, keys shuffled) that must still be accepted.
     */
    byte[] mutateText(ObjectNode doc) {
        String compact = doc.toString();
        lastText = rnd.nextInt(9);
        return switch (lastText) {
            case 0 -> (compact + pick(List.of("x", "}", " {}", "\n]", "0", "{\"a\":1}"))).getBytes(StandardCharsets.UTF_8);
            case 1 -> compact.substring(0, rnd.nextInt(compact.length())).getBytes(StandardCharsets.UTF_8);
            case 2 -> {
                String k = pick(new ArrayList<>(iterable(doc.fieldNames())));
                yield (compact.substring(0, compact.length() - 1) + ",\"" + k + "\":1}").getBytes(StandardCharsets.UTF_8);
            }
            case 3 -> flip(compact.getBytes(StandardCharsets.UTF_8), 1 + rnd.nextInt(3));
            case 4 -> compact.replaceFirst(":\\s*[0-9][0-9.e+-]*", ":NaN").getBytes(StandardCharsets.UTF_8);
            case 5 -> doc.toPrettyString().getBytes(StandardCharsets.UTF_8); // harmless
            case 6 -> shuffled(doc).toString().getBytes(StandardCharsets.UTF_8); // harmless
            case 7 -> ("\uFEFF" + compact).getBytes(StandardCharsets.UTF_8);
            default -> (compact + "\n   \n").getBytes(StandardCharsets.UTF_8); // harmless trailing whitespace
        };
    }

    ObjectNode shuffled(ObjectNode doc) {
        List<String> keys = new ArrayList<>(iterable(doc.fieldNames()));
        Collections.shuffle(keys, rnd);
        ObjectNode out = JSON.createObjectNode();
        for (String k : keys) out.set(k, doc.get(k));
        return out;
    }

    byte[] flip(byte[] b, int n) {
        byte[] out = b.clone();
        for (int i = 0; i < n && out.length > 0; i++) out[rnd.nextInt(out.length)] ^= (byte) (1 + rnd.nextInt(255));
        return out;
    }

    static ArrayNode longs(long... v) {
        ArrayNode a = F.arrayNode();
        for (long x : v) a.add(x);
        return a;
    }

    static <T> List<T> iterable(java.util.Iterator<T> it) {
        List<T> out = new ArrayList<>();
        it.forEachRemaining(out::add);
        return out;
    }
}
