package io.headfuse.formats.meta.pickle;

import io.headfuse.formats.CheckpointException;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Deque;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A restricted unpickler for the {@code data.pkl} of a torch zip checkpoint. It runs the opcodes torch.save
 * emits (protocols 2 to 5) as pure data building: dicts, lists, tuples, strings, numbers, and the whitelisted
 * {@link TorchGlobal}s, whose "calls" build {@link TensorRef}s instead of running anything. Any other global
 * is refused as soon as it is named, and so are the opcodes that construct arbitrary objects (INST, OBJ,
 * NEWOBJ, EXT*): a malicious pickle can make this fail, never make it act.
 *
 * <p>Values: Python int is {@link Long} (or {@link BigInteger} when wider), float is {@link Double}, str is
 * {@link String}, bytes is {@code byte[]}, None is null, list is a mutable {@link ArrayList}, tuple an
 * unmodifiable {@link List}, dict and OrderedDict a {@link LinkedHashMap}.
 */
public final class Unpickler {
    private final ByteBuffer in;
    private final Path file;
    private final String entry;
    private final List<Object> stack = new ArrayList<>();
    private final Deque<Integer> marks = new ArrayDeque<>();
    private final Map<Long, Object> memo = new HashMap<>();
    private long values; // every value pushed or stored in a container, against MAX_VALUES

    // Bounds far above what torch.save writes (a 405B model's data.pkl has a few hundred thousand opcodes and a
    // stack a few deep), and low enough that a forged pickle of EMPTY_LIST/MEMOIZE/APPEND fails in well under a
    // second and a few hundred MB of heap instead of exhausting it.
    static final int MAX_STACK = 100_000, MAX_MARKS = 10_000, MAX_MEMO = 1_000_000;
    static final long MAX_VALUES = 4_000_000;

    private Unpickler(byte[] data, Path file, String entry) {
        this.in = ByteBuffer.wrap(data).order(ByteOrder.LITTLE_ENDIAN);
        this.file = file;
        this.entry = entry;
    }

    /**
     * Unpickles {@code data} (the entry {@code entry} of {@code file}; both only name things in errors).
     * Errors are {@link CheckpointException}s naming the file, the entry and the byte offset.
     */
    public static Object load(byte[] data, Path file, String entry) throws CheckpointException {
        return new Unpickler(data, file, entry).run();
    }

    private Object run() throws CheckpointException {
        try {
            while (true) {
                int pos = in.position();
                if (!in.hasRemaining()) throw fail(pos, "ends without a STOP opcode");
                int op = in.get() & 0xff;
                if (op == '.') {
                    if (stack.size() != 1 || !marks.isEmpty()) throw fail(pos, "STOP with " + stack.size() + " values on the stack");
                    return stack.get(0);
                }
                step(op, pos);
            }
        } catch (java.nio.BufferUnderflowException e) {
            throw fail(in.position(), "truncated: an opcode's argument runs past the end");
        } catch (ArithmeticException e) {
            throw fail(in.position(), "a length or index overflows: " + e.getMessage());
        }
    }

    private void step(int op, int pos) throws CheckpointException {
        switch (op) {
            case 0x80 -> { // PROTO
                int proto = in.get() & 0xff;
                if (proto > 5) throw fail(pos, "pickle protocol " + proto + " is newer than 5");
            }
            case 0x95 -> in.getLong(); // FRAME: a length hint only
            case '(' -> { // MARK
                if (marks.size() >= MAX_MARKS) throw fail(pos, "more than " + MAX_MARKS + " nested MARKs");
                marks.push(stack.size());
            }
            case '0' -> pop(pos); // POP
            case '1' -> popMark(pos); // POP_MARK
            case '2' -> push(peek(pos)); // DUP
            case '}' -> push(new LinkedHashMap<>()); // EMPTY_DICT
            case ']' -> push(new ArrayList<>()); // EMPTY_LIST
            case ')' -> push(tuple(List.of())); // EMPTY_TUPLE
            case 't' -> push(tuple(popMark(pos))); // TUPLE
            case 0x85 -> push(tuple(popN(1, pos))); // TUPLE1
            case 0x86 -> push(tuple(popN(2, pos))); // TUPLE2
            case 0x87 -> push(tuple(popN(3, pos))); // TUPLE3
            case 'l' -> push(new ArrayList<>(popMark(pos))); // LIST
            case 'd' -> { // DICT
                Map<Object, Object> d = new LinkedHashMap<>();
                putPairs(d, popMark(pos), pos);
                push(d);
            }
            case 'a' -> { // APPEND
                Object v = pop(pos);
                count(1, pos);
                listAt(peek(pos), pos).add(v);
            }
            case 'e' -> { // APPENDS
                List<Object> items = popMark(pos);
                count(items.size(), pos);
                listAt(peek(pos), pos).addAll(items);
            }
            case 's' -> { // SETITEM
                Object v = pop(pos);
                Object k = key(pop(pos), pos);
                count(1, pos);
                dictAt(peek(pos), pos).put(k, v);
            }
            case 'u' -> { // SETITEMS
                List<Object> items = popMark(pos);
                putPairs(dictAt(peek(pos), pos), items, pos);
            }
            case 'X' -> push(utf8(bytes(in.getInt() & 0xffffffffL, pos), pos)); // BINUNICODE
            case 0x8c -> push(utf8(bytes(in.get() & 0xff, pos), pos)); // SHORT_BINUNICODE
            case 0x8d -> push(utf8(bytes(in.getLong(), pos), pos)); // BINUNICODE8
            case 'C' -> push(bytes(in.get() & 0xff, pos)); // SHORT_BINBYTES
            case 'B' -> push(bytes(in.getInt() & 0xffffffffL, pos)); // BINBYTES
            case 0x8e -> push(bytes(in.getLong(), pos)); // BINBYTES8
            case 'q' -> memoPut((long) (in.get() & 0xff), pos); // BINPUT
            case 'r' -> memoPut(in.getInt() & 0xffffffffL, pos); // LONG_BINPUT
            case 0x94 -> memoPut((long) memo.size(), pos); // MEMOIZE
            case 'h' -> push(memoGet(in.get() & 0xff, pos)); // BINGET
            case 'j' -> push(memoGet(in.getInt() & 0xffffffffL, pos)); // LONG_BINGET
            case 'J' -> push((long) in.getInt()); // BININT
            case 'K' -> push((long) (in.get() & 0xff)); // BININT1
            case 'M' -> push((long) (in.getShort() & 0xffff)); // BININT2
            case 0x8a -> push(longOf(bytes(in.get() & 0xff, pos))); // LONG1
            case 0x8b -> push(longOf(bytes(in.getInt() & 0xffffffffL, pos))); // LONG4
            case 'N' -> push(null); // NONE
            case 0x88 -> push(Boolean.TRUE); // NEWTRUE
            case 0x89 -> push(Boolean.FALSE); // NEWFALSE
            case 'G' -> { // BINFLOAT: big-endian, unlike every other number in a pickle
                double d = in.order(ByteOrder.BIG_ENDIAN).getDouble();
                in.order(ByteOrder.LITTLE_ENDIAN);
                push(d);
            }
            case 'c' -> push(global(line(pos), line(pos), pos)); // GLOBAL "module\nname\n"
            case 0x93 -> { // STACK_GLOBAL
                Object name = pop(pos);
                Object module = pop(pos);
                if (!(module instanceof String m) || !(name instanceof String n)) throw fail(pos, "STACK_GLOBAL needs two strings");
                push(global(m, n, pos));
            }
            case 'R' -> { // REDUCE
                Object args = pop(pos);
                Object callable = pop(pos);
                push(reduce(callable, args, pos));
            }
            case 'b' -> build(pop(pos), peek(pos), pos); // BUILD
            case 'Q' -> push(persistentId(pop(pos), pos)); // BINPERSID
            default -> throw fail(pos, String.format("unsupported pickle opcode 0x%02x%s: a torch checkpoint does not need it",
                    op, op >= 0x20 && op < 0x7f ? " ('" + (char) op + "')" : ""));
        }
    }

    // ---- globals and their "calls": the whole attack surface, so every argument is checked ----

    private TorchGlobal global(String module, String name, int pos) throws CheckpointException {
        TorchGlobal g = TorchGlobal.lookup(module, name);
        if (g == null)
            throw new CheckpointException(file, entry + ": refusing pickle global '" + module + "." + name + "' at byte " + pos
                    + ": a checkpoint may only name " + TorchGlobal.allowedList());
        return g;
    }

    private Object reduce(Object callable, Object args, int pos) throws CheckpointException {
        if (!(callable instanceof TorchGlobal g)) throw fail(pos, "REDUCE on " + describe(callable) + ", which is not callable");
        List<Object> a = tupleArgs(args, g, pos);
        return switch (g) {
            case ORDERED_DICT -> {
                if (!a.isEmpty()) throw fail(pos, "collections.OrderedDict called with arguments (torch.save passes none)");
                yield new LinkedHashMap<>();
            }
            case REBUILD_TENSOR_V2 -> rebuildTensor(a, pos);
            case REBUILD_PARAMETER -> {
                // (data, requires_grad, backward_hooks): a Parameter is just its tensor here
                if (a.size() != 3 || !(a.get(0) instanceof TensorRef t)) throw fail(pos, "torch._utils._rebuild_parameter expects (tensor, requires_grad, hooks)");
                yield t;
            }
            default -> throw fail(pos, g + " may only tag a storage in a persistent id, not be called");
        };
    }

    /** {@code _rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad, backward_hooks[, metadata])}. */
    private TensorRef rebuildTensor(List<Object> a, int pos) throws CheckpointException {
        String sig = "torch._utils._rebuild_tensor_v2(storage, offset, size, stride, requires_grad, hooks[, metadata])";
        if (a.size() != 6 && a.size() != 7) throw fail(pos, sig + " called with " + a.size() + " arguments");
        if (!(a.get(0) instanceof StorageRef storage)) throw fail(pos, sig + ": first argument is " + describe(a.get(0)) + ", not a storage");
        long offset = nonNegative(a.get(1), "storage offset", pos);
        long[] shape = longs(a.get(2), "size", pos);
        long[] stride = longs(a.get(3), "stride", pos);
        if (shape.length != stride.length) throw fail(pos, sig + ": size has " + shape.length + " dims but stride has " + stride.length);
        if (!(a.get(4) instanceof Boolean)) throw fail(pos, sig + ": requires_grad is " + describe(a.get(4)));
        // Backward hooks would be functions, which could only arrive through a refused global; require none.
        if (!(a.get(5) instanceof Map<?, ?> hooks) || !hooks.isEmpty()) throw fail(pos, sig + ": backward hooks must be an empty OrderedDict");
        return new TensorRef(storage, offset, shape, stride);
    }

    /** {@code ('storage', torch.XStorage, key, location, numel)}. */
    private StorageRef persistentId(Object pid, int pos) throws CheckpointException {
        if (!(pid instanceof List<?> t) || t.size() != 5 || !"storage".equals(t.get(0)))
            throw fail(pos, "persistent id " + describe(pid) + " is not ('storage', type, key, location, numel)");
        if (!(t.get(1) instanceof TorchGlobal g) || !g.isStorage()) throw fail(pos, "persistent id names " + describe(t.get(1)) + ", not a storage type");
        if (!(t.get(2) instanceof String key)) throw fail(pos, "persistent id key is " + describe(t.get(2)) + ", not a string");
        if (!(t.get(3) instanceof String location)) throw fail(pos, "persistent id location is " + describe(t.get(3)) + ", not a string");
        long numel = nonNegative(t.get(4), "storage size", pos);
        return new StorageRef(key, g.storageType(), location, numel);
    }

    private void build(Object state, Object target, int pos) throws CheckpointException {
        // torch.save's OrderedDict carries its module's '_metadata' as instance state: irrelevant to the weights.
        if (target instanceof Map<?, ?> && (state == null || state instanceof Map<?, ?>)) return;
        throw fail(pos, "BUILD sets state on " + describe(target) + "; only an OrderedDict's metadata is accepted");
    }

    // ---- stack, memo and argument helpers ----

    private void push(Object o) throws CheckpointException {
        int pos = in.position();
        if (stack.size() >= MAX_STACK) throw fail(pos, "more than " + MAX_STACK + " values on the stack");
        count(1, pos);
        stack.add(o);
    }

    private void count(long n, int pos) throws CheckpointException {
        values += n;
        if (values > MAX_VALUES) throw fail(pos, "more than " + MAX_VALUES + " values: far more than any checkpoint's state dict holds");
    }

    private void memoPut(long index, int pos) throws CheckpointException {
        Object v = peek(pos);
        if (memo.size() >= MAX_MEMO && !memo.containsKey(index)) throw fail(pos, "more than " + MAX_MEMO + " memo entries");
        memo.put(index, v);
    }

    /**
     * A dict key. torch state dicts key by strings (and their metadata by strings and ints); a list, tuple or dict
     * as a key would have to be hashed, recursively, and a deep or self-containing one overflows the Java stack.
     */
    private Object key(Object k, int pos) throws CheckpointException {
        if (k == null || k instanceof String || k instanceof Long || k instanceof BigInteger || k instanceof Boolean || k instanceof Double) return k;
        throw fail(pos, "dict key is " + describe(k) + ": only strings and numbers are accepted as keys");
    }

    private Object pop(int pos) throws CheckpointException {
        if (stack.size() <= (marks.isEmpty() ? 0 : marks.peek())) throw fail(pos, "stack underflow");
        return stack.removeLast();
    }

    private Object peek(int pos) throws CheckpointException {
        if (stack.size() <= (marks.isEmpty() ? 0 : marks.peek())) throw fail(pos, "stack underflow");
        return stack.getLast();
    }

    private List<Object> popN(int n, int pos) throws CheckpointException {
        Object[] items = new Object[n];
        for (int i = n - 1; i >= 0; i--) items[i] = pop(pos);
        return java.util.Arrays.asList(items);
    }

    private List<Object> popMark(int pos) throws CheckpointException {
        if (marks.isEmpty()) throw fail(pos, "no MARK to pop to");
        int from = marks.pop();
        List<Object> tail = stack.subList(from, stack.size());
        List<Object> items = new ArrayList<>(tail);
        tail.clear();
        return items;
    }

    private static List<Object> tuple(List<Object> items) {
        return Collections.unmodifiableList(new ArrayList<>(items)); // List.copyOf would refuse None
    }

    private Object memoGet(long index, int pos) throws CheckpointException {
        if (!memo.containsKey(index)) throw fail(pos, "memo slot " + index + " read before it was written");
        return memo.get(index);
    }

    @SuppressWarnings("unchecked")
    private List<Object> listAt(Object o, int pos) throws CheckpointException {
        if (o instanceof ArrayList<?> l) return (List<Object>) l;
        throw fail(pos, "APPEND to " + describe(o) + ", which is not a list");
    }

    @SuppressWarnings("unchecked")
    private Map<Object, Object> dictAt(Object o, int pos) throws CheckpointException {
        if (o instanceof LinkedHashMap<?, ?> m) return (Map<Object, Object>) m;
        throw fail(pos, "SETITEM on " + describe(o) + ", which is not a dict");
    }

    private void putPairs(Map<Object, Object> d, List<Object> items, int pos) throws CheckpointException {
        if (items.size() % 2 != 0) throw fail(pos, "odd number of items for a dict");
        count(items.size() / 2, pos);
        for (int i = 0; i < items.size(); i += 2) d.put(key(items.get(i), pos), items.get(i + 1));
    }

    private List<Object> tupleArgs(Object args, TorchGlobal g, int pos) throws CheckpointException {
        if (args instanceof List<?> l && !(args instanceof ArrayList<?>)) {
            @SuppressWarnings("unchecked") List<Object> a = (List<Object>) l;
            return a;
        }
        throw fail(pos, g + " called with " + describe(args) + " instead of an argument tuple");
    }

    private long nonNegative(Object o, String what, int pos) throws CheckpointException {
        if (o instanceof Long v && v >= 0) return v;
        throw fail(pos, what + " must be a non-negative integer, got " + describe(o));
    }

    private long[] longs(Object o, String what, int pos) throws CheckpointException {
        if (!(o instanceof List<?> l)) throw fail(pos, what + " must be a tuple of integers, got " + describe(o));
        long[] out = new long[l.size()];
        for (int i = 0; i < out.length; i++) out[i] = nonNegative(l.get(i), what + "[" + i + "]", pos);
        return out;
    }

    private byte[] bytes(long n, int pos) throws CheckpointException {
        // Check against what is left before allocating, so a forged length cannot ask for gigabytes.
        if (n < 0 || n > in.remaining()) throw fail(pos, "a " + n + "-byte argument runs past the end (" + in.remaining() + " bytes left)");
        byte[] b = new byte[(int) n];
        in.get(b);
        return b;
    }

    private String line(int pos) throws CheckpointException {
        int start = in.position();
        for (int i = start; i < in.limit(); i++) {
            if (in.get(i) == '\n') {
                byte[] b = new byte[i - start];
                in.get(start, b);
                in.position(i + 1);
                return utf8(b, pos);
            }
        }
        throw fail(pos, "GLOBAL name is not terminated by a newline");
    }

    private String utf8(byte[] b, int pos) throws CheckpointException {
        try {
            return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(b)).toString();
        } catch (CharacterCodingException e) {
            throw fail(pos, "string is not valid UTF-8");
        }
    }

    /** Pickle's LONG1/LONG4: little-endian two's complement. */
    private static Object longOf(byte[] le) {
        if (le.length == 0) return 0L;
        byte[] be = new byte[le.length];
        for (int i = 0; i < le.length; i++) be[i] = le[le.length - 1 - i];
        BigInteger v = new BigInteger(be);
        return v.bitLength() < 64 ? (Object) v.longValue() : v;
    }

    private static String describe(Object o) {
        if (o == null) return "None";
        if (o instanceof String s) return "'" + (s.length() > 60 ? s.substring(0, 60) + "..." : s) + "'";
        if (o instanceof Long || o instanceof Boolean || o instanceof Double) return o.toString();
        if (o instanceof TorchGlobal g) return g.qualifiedName();
        if (o instanceof List<?> l) return (o instanceof ArrayList<?> ? "a list" : "a tuple") + " of " + l.size();
        if (o instanceof Map<?, ?>) return "a dict";
        if (o instanceof TensorRef) return "a tensor";
        if (o instanceof StorageRef) return "a storage";
        return "a " + o.getClass().getSimpleName();
    }

    private CheckpointException fail(int pos, String problem) {
        return new CheckpointException(file, entry + ": " + problem + " (pickle byte " + pos + ")");
    }
}
