package io.headfuse.uptrain.eval;

import io.headfuse.uptrain.model.DeviceMemory;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.OptionalLong;

/**
 * One model's decode benchmark.
 *
 * @param kvBytesComputed  the cache's size from the config: 2 x layers x kv heads x head_dim x 4 bytes (fp32) x
 *                         batch x (context + new tokens)
 * @param kvBytesMeasured  memory the cache held on the device, measured as {@code kvMeasuredBy} says
 * @param kvMeasuredBy     "device" (the drop in CUDA's used memory when the cache is freed, allocator cache
 *                         emptied around it) or "arrays" (the sum of the cache arrays' byte sizes, where the device's
 *                         memory cannot be read)
 * @param peakDeviceMemory the most device memory in use during the run, empty on the CPU
 * @param generated        the greedy tokens, [batch][newTokens]
 */
public record DecodeResult(String model, int batch, int context, int newTokens, double prefillSeconds, double decodeSeconds,
                           long kvBytesComputed, long kvBytesMeasured, String kvMeasuredBy, OptionalLong peakDeviceMemory,
                           int[][] generated) {
    /** Prompt tokens through the model per second. */
    public double prefillTokensPerSecond() { return (double) batch * context / prefillSeconds; }

    /** Generated tokens per second over the decode steps (the first new token comes from the prefill). */
    public double decodeTokensPerSecond() { return (double) batch * (newTokens - 1) / decodeSeconds; }

    public Map<String, Object> toJson() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("model", model);
        m.put("batch", batch);
        m.put("context", context);
        m.put("new_tokens", newTokens);
        m.put("prefill_tokens_per_s", prefillTokensPerSecond());
        m.put("decode_tokens_per_s", decodeTokensPerSecond());
        m.put("prefill_s", prefillSeconds);
        m.put("decode_s", decodeSeconds);
        m.put("kv_bytes_computed", kvBytesComputed);
        m.put("kv_bytes_measured", kvBytesMeasured);
        m.put("kv_measured_by", kvMeasuredBy);
        m.put("peak_device_bytes", peakDeviceMemory.isPresent() ? peakDeviceMemory.getAsLong() : null);
        return m;
    }

    @Override public String toString() {
        return String.format(Locale.ROOT, "prefill %.0f tok/s, decode %.1f tok/s, kv cache %s computed / %s measured (%s), peak device memory %s",
                prefillTokensPerSecond(), decodeTokensPerSecond(), DeviceMemory.gib(kvBytesComputed), DeviceMemory.gib(kvBytesMeasured),
                kvMeasuredBy, DeviceMemory.format(peakDeviceMemory));
    }
}
