package io.headfuse.uptrain;

import io.headfuse.testkit.Assets;

import ai.djl.Device;
import io.headfuse.uptrain.model.LlamaModel;
import io.headfuse.uptrain.tokenizer.TextTokenizer;
import io.headfuse.uptrain.tokenizer.Tokenizers;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/** One loaded instance per asset model for the whole test JVM (loading is the slow part of small tests). */
final class SharedModels {
    private static final Map<String, LlamaModel> MODELS = new ConcurrentHashMap<>();
    private static final Map<String, TextTokenizer> TOKENIZERS = new ConcurrentHashMap<>();

    private SharedModels() {}

    static LlamaModel model(String name) {
        var dir = Assets.model(name);
        return MODELS.computeIfAbsent(name, n -> {
            try {
                return LlamaModel.load(dir, Device.cpu());
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        });
    }

    static TextTokenizer tokenizer(String name) {
        var dir = Assets.model(name);
        return TOKENIZERS.computeIfAbsent(name, n -> {
            try {
                return Tokenizers.forModel(dir);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        });
    }
}
