package io.headfuse.uptrain.model;

import ai.djl.Device;
import java.util.OptionalLong;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The most device memory in use while it runs: a daemon thread samples {@link DeviceMemory#used} every few
 * milliseconds (there is no allocator peak counter to read, see {@link DeviceMemory}), and {@link #sample()} lets
 * a caller add a reading at a known high point (e.g. after a batch's forward pass). On the CPU no thread starts
 * and the peak is empty ("n/a").
 */
public final class PeakMemory implements AutoCloseable {
    private static final long PERIOD_MS = 5;
    private final Device device;
    private final AtomicLong peak = new AtomicLong(-1);
    private final Thread sampler;
    private volatile boolean running = true;

    private PeakMemory(Device device) {
        this.device = device;
        boolean measurable = DeviceMemory.used(device).isPresent();
        this.sampler = measurable ? Thread.ofPlatform().daemon().name("headfuse-peak-memory").start(this::loop) : null;
        sample();
    }

    /** Starts watching {@code device}. */
    public static PeakMemory watch(Device device) { return new PeakMemory(device); }

    /** Takes one reading now. */
    public void sample() {
        DeviceMemory.used(device).ifPresent(v -> peak.accumulateAndGet(v, Math::max));
    }

    /** The largest reading so far, or empty where the device's memory cannot be read. */
    public OptionalLong peak() {
        long p = peak.get();
        return p < 0 ? OptionalLong.empty() : OptionalLong.of(p);
    }

    private void loop() {
        while (running) {
            sample();
            try {
                Thread.sleep(PERIOD_MS);
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    @Override public void close() {
        running = false;
        if (sampler != null) {
            sampler.interrupt();
            try {
                sampler.join(1000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        sample();
    }
}
