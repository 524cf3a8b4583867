package io.headfuse.converter;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reports as strict JSON: Jackson writes an infinite or NaN double as the string "Infinity"/"NaN", which no
 * reader takes for a number. Such values become null, and a {@code note} names them.
 */
public final class FiniteJson {
    public static final String NOTE = "note";

    private FiniteJson() {}

    public static Map<String, Object> of(Map<String, Object> doc) {
        List<String> dropped = new ArrayList<>();
        @SuppressWarnings("unchecked")
        Map<String, Object> clean = (Map<String, Object>) clean(doc, "", dropped);
        if (dropped.isEmpty()) return clean;
        Map<String, Object> out = new LinkedHashMap<>(clean);
        out.put(NOTE, "not a finite number (e.g. too few tokens, or an overflow), written as null: " + String.join(", ", dropped));
        return out;
    }

    private static Object clean(Object v, String path, List<String> dropped) {
        if (v instanceof Double d && !Double.isFinite(d) || v instanceof Float f && !Float.isFinite(f)) {
            dropped.add(path);
            return null;
        }
        if (v instanceof Map<?, ?> m) {
            Map<String, Object> out = new LinkedHashMap<>();
            m.forEach((k, x) -> out.put(String.valueOf(k), clean(x, path.isEmpty() ? String.valueOf(k) : path + "." + k, dropped)));
            return out;
        }
        if (v instanceof List<?> l) {
            List<Object> out = new ArrayList<>();
            for (int i = 0; i < l.size(); i++) out.add(clean(l.get(i), path + "[" + i + "]", dropped));
            return out;
        }
        return v;
    }
}
