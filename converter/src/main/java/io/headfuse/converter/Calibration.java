package io.headfuse.converter;

import ai.djl.Device;
import io.headfuse.formats.Checkpoint;
import io.headfuse.formats.LlamaConfig;
import io.headfuse.formats.calib.CalibrationStats;
import io.headfuse.uptrain.eval.Perplexity;
import io.headfuse.uptrain.model.LayerwiseCalibration;
import io.headfuse.uptrain.model.LlamaModel;
import io.headfuse.uptrain.tokenizer.TextTokenizer;
import io.headfuse.uptrain.tokenizer.Tokenizers;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/** Runs the original model over calibration text and gathers {@link CalibrationStats} for activation-informed strategies. */
public final class Calibration {
    /** Tokens per forward pass (capped by the model's context). */
    public static final int WINDOW = 512;

    /** Whether the model runs whole or one decoder layer at a time ({@link LayerwiseCalibration}). */
    public enum Mode {
        /** Layer by layer when the whole model would not fit the device's free memory (RAM on the CPU). */
        AUTO,
        WHOLE_MODEL,
        LAYERWISE;

        /** auto, whole or layerwise (the {@code calib.layerwise} setting's values: auto, no, yes too). */
        public static Mode parse(String s) {
            return switch (s.toLowerCase(java.util.Locale.ROOT)) {
                case "auto" -> AUTO;
                case "whole", "whole-model", "no", "false" -> WHOLE_MODEL;
                case "layerwise", "yes", "true" -> LAYERWISE;
                default -> throw new IllegalArgumentException("calibration mode must be auto, whole or layerwise, got '" + s + "'");
            };
        }
    }

    private Calibration() {}

    /** {@link #gather(Checkpoint, List, int, Progress, Device, Mode)} on the CPU, layer-wise when the model does not fit. */
    public static CalibrationStats gather(Checkpoint model, List<Path> files, int tokens, Progress progress) throws IOException {
        return gather(model, files, tokens, progress, Device.cpu(), Mode.AUTO);
    }

    /**
     * Statistics of the first {@code tokens} tokens of the files, shared evenly between them (a short file leaves
     * its share to the next). Each file is tokenized with one BOS, as the model was trained, and run in windows of
     * {@link #WINDOW} tokens, on {@code device}, whole or layer by layer as {@code mode} says.
     */
    public static CalibrationStats gather(Checkpoint model, List<Path> files, int tokens, Progress progress, Device device, Mode mode) throws IOException {
        if (tokens <= 0) throw new IllegalArgumentException("--calib-tokens must be positive, got " + tokens);
        if (files.isEmpty()) throw new IllegalArgumentException("no calibration text given (--calib FILE)");
        LlamaConfig c = model.config();
        int window = Math.min(WINDOW, c.maxPositions());
        List<int[]> windows = new ArrayList<>();
        long total = 0;
        try (TextTokenizer tok = Tokenizers.forModel(model.source())) {
            int left = tokens;
            for (int i = 0; i < files.size() && left > 0; i++) {
                int share = left / (files.size() - i);
                int[] ids = tok.encode(prefix(files.get(i), share), true);
                // A lone BOS says nothing about the model's activations: an empty file is a mistake, not data.
                if (ids.length < 2) throw new IllegalArgumentException(files.get(i) + ": text too short: " + ids.length + " tokens");
                int n = Math.min(share, ids.length);
                for (int s = 0; s < n; s += window) {
                    int e = Math.min(n, s + window);
                    windows.add(Arrays.copyOfRange(ids, s, e));
                }
                left -= n;
                total += n;
            }
        }
        if (total == 0) throw new IllegalArgumentException("the calibration text holds no tokens: " + files);
        CalibrationStats stats = new CalibrationStats(c.numLayers(), c.hiddenSize());
        boolean layerwise = mode == Mode.LAYERWISE || (mode == Mode.AUTO && LayerwiseCalibration.needed(c, device));
        try {
            if (layerwise) {
                progress.start("calibrate (layer-wise)", total * c.numLayers(), "tok", 1);
                LayerwiseCalibration.run(model, device, windows, stats, progress::advance);
            } else {
                try (LlamaModel m = LlamaModel.load(model, device)) {
                    progress.start("calibrate", total, "tok", 1);
                    for (int[] w : windows) {
                        m.calibrate(w, stats);
                        progress.advance(w.length);
                    }
                }
            }
        } finally {
            progress.close();
        }
        return stats;
    }

    /**
     * Enough of the text for {@code tokens} tokens, without tokenizing a whole corpus: a token rarely spans more
     * than a few characters, so 8 characters a token (plus slack) suffice. Read as eval reads text.
     */
    private static String prefix(Path file, int tokens) throws IOException {
        String all = Perplexity.readText(file);
        return all.substring(0, (int) Math.min(all.length(), 8L * tokens + 1024));
    }
}
