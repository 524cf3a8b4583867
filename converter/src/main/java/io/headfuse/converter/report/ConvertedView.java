package io.headfuse.converter.report;

import io.headfuse.formats.Checkpoint;
import io.headfuse.formats.LlamaConfig;
import io.headfuse.formats.TensorSource;
import io.headfuse.fusion.FusionResult;
import java.nio.file.Path;
import java.util.List;

/**
 * A conversion seen as a checkpoint without writing it: the input's tensors with the strategy's replacements
 * (narrowed to the stored dtype when read, as a written checkpoint would be) under the new config. Benchmarks
 * load it straight into the runtime. Does not own the input: close that yourself.
 */
public record ConvertedView(Checkpoint input, FusionResult result) implements Checkpoint {
    @Override public Path source() { return input.source(); }

    @Override public String format() { return input.format(); }

    @Override public LlamaConfig config() { return result.config(); }

    @Override public List<TensorSource> tensors() { return result.applyTo(input.tensors()); }

    @Override public List<Path> files() { return input.files(); }

    @Override public List<Path> sideFiles() { return input.sideFiles(); }

    @Override public void close() {}
}
