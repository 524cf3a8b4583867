package io.headfuse.converter;

/** Receives progress of long work; the CLI shows a bar with rate and ETA, library callers may pass their own. */
public interface Progress extends AutoCloseable {
    /** A new task of {@code total} units ({@code unit}, e.g. "MiB" with {@code unitSize} bytes). */
    void start(String task, long total, String unit, long unitSize);

    void advance(long n);

    /** A short status shown beside the bar (loss, learning rate), where the bar has room for one. */
    default void message(String text) {}

    @Override void close();

    Progress NONE = new Progress() {
        @Override public void start(String task, long total, String unit, long unitSize) {}
        @Override public void advance(long n) {}
        @Override public void close() {}
    };
}
