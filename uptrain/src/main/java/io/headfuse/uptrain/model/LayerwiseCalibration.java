package io.headfuse.uptrain.model;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import io.headfuse.formats.Checkpoint;
import io.headfuse.formats.LlamaConfig;
import io.headfuse.formats.calib.CalibrationStats;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.OptionalLong;
import java.util.function.LongConsumer;

/**
 * Calibration of a model that need not fit the device: the residual stream of every calibration token stays on
 * the device, and the decoder layers pass through it one at a time (load layer l, add its attention-input
 * statistics, run it over every sequence, free it). Peak memory is the embedding, one layer's fp32 weights and
 * the hidden states ({@code tokens x hidden x 4} bytes), not the model. Statistics equal
 * {@link LlamaModel#calibrate} up to float rounding: the same layers run on the same inputs, in another order.
 */
public final class LayerwiseCalibration {
    /** Working room on top of the weights that whole-model calibration needs (activations, allocator slack). */
    static final double HEADROOM = 1.25;

    private LayerwiseCalibration() {}

    /** Whether whole-model calibration of {@code config} would not fit the memory {@code device} has free now. */
    public static boolean needed(LlamaConfig config, Device device) {
        OptionalLong free = device.isGpu() ? DeviceMemory.free(device) : availableRam();
        return free.isPresent() && wholeModelBytes(config) * HEADROOM > free.getAsLong();
    }

    /** The fp32 bytes of all parameters: what whole-model calibration loads onto the device. */
    public static long wholeModelBytes(LlamaConfig config) {
        long h = config.hiddenSize(), d = config.headDim();
        long layers = 0;
        for (int l = 0; l < config.numLayers(); l++)   // K/V rows per layer (DHA's counts differ by layer)
            layers += h * config.numHeads() * d * 2 + h * (config.kvHeads(l, false) + config.kvHeads(l, true)) * d
                      + 3 * h * config.intermediateSize() + 2 * h;
        long head = config.tieWordEmbeddings() ? 0 : (long) config.vocabSize() * h;
        return 4 * ((long) config.vocabSize() * h + layers + h + head);
    }

    /**
     * Adds every layer's attention-input statistics over {@code sequences} to {@code stats}. {@code progress}
     * receives the tokens processed (sequences x layers in all).
     */
    public static void run(Checkpoint ckpt, Device device, List<int[]> sequences, CalibrationStats stats, LongConsumer progress) throws IOException {
        LlamaConfig config = ckpt.config();
        if (stats.layers() != config.numLayers() || stats.hidden() != config.hiddenSize())
            throw new IllegalArgumentException("calibration stats sized for " + stats.layers() + " layers x " + stats.hidden()
                    + ", model has " + config.numLayers() + " x " + config.hiddenSize());
        try (LlamaModel shell = LlamaModel.loadEmbeddingOnly(ckpt, device);
             NDManager states = shell.manager().newSubManager()) {
            NDArray[] x = new NDArray[sequences.size()];
            for (int i = 0; i < x.length; i++) x[i] = shell.embed(LlamaModel.tokens(states, sequences.get(i)));
            int last = config.numLayers() - 1;
            for (int l = 0; l <= last; l++) {
                try (NDManager layerScope = shell.manager().newSubManager()) {
                    LayerWeights w = LlamaWeights.loadLayer(ckpt, config, l, layerScope);
                    for (int i = 0; i < x.length; i++) {
                        NDArray in = x[i];
                        NDArray out = null;
                        try (NDManager step = layerScope.newSubManager()) {
                            // Intermediates follow their input's manager: borrow the state into the step so they
                            // are freed with it, and keep only the layer's output.
                            in.tempAttach(step);
                            LlamaModel.addStats(l, shell.attentionInput(w, in), stats);
                            if (l < last) {
                                out = shell.runLayer(l, w, in, ForwardTap.NONE);
                                out.attach(states);
                            }
                        }
                        in.close();
                        x[i] = out;
                        progress.accept(sequences.get(i).length);
                    }
                }
            }
        }
    }

    /** MemAvailable of /proc/meminfo (native memory, where the CPU engine keeps tensors), or empty elsewhere. */
    static OptionalLong availableRam() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/meminfo")))
                if (line.startsWith("MemAvailable:"))
                    return OptionalLong.of(Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024);
        } catch (IOException | RuntimeException e) {
            // not Linux: unknown
        }
        return OptionalLong.empty();
    }
}
