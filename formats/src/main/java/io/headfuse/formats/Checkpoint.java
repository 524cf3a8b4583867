package io.headfuse.formats;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/**
 * A Llama checkpoint opened for reading, whatever its format: the architecture, and its tensors under HF names
 * in HF layout (loaders of other formats rename and permute). Tensors are read lazily; nothing is on the heap
 * until a {@link TensorSource} is asked for its data.
 */
public interface Checkpoint extends AutoCloseable {
    /** The folder or file it was opened from. */
    Path source();

    /** "hf-safetensors", "meta-pth" or "llama2c". */
    String format();

    LlamaConfig config();

    /** Every tensor, in a fixed order (the order a writer keeps). */
    List<TensorSource> tensors();

    /** The files holding the weights (shards). */
    List<Path> files();

    /** Side files a converted checkpoint should carry along (tokenizer, generation config), possibly none. */
    List<Path> sideFiles();

    default TensorSource tensor(String name) throws IOException {
        for (TensorSource t : tensors()) if (t.name().equals(name)) return t;
        throw new CheckpointException(source(), "no tensor named " + name);
    }

    default boolean has(String name) {
        for (TensorSource t : tensors()) if (t.name().equals(name)) return true;
        return false;
    }

    default long parameterCount() {
        long n = 0;
        for (TensorSource t : tensors()) n += t.numel();
        return n;
    }

    /** The dtype most bytes are stored in. */
    default DType storedDtype() {
        java.util.Map<DType, Long> bytes = new java.util.EnumMap<>(DType.class);
        for (TensorSource t : tensors()) bytes.merge(t.dtype(), t.byteSize(), Long::sum);
        return bytes.entrySet().stream().max(java.util.Map.Entry.comparingByValue()).map(java.util.Map.Entry::getKey).orElse(DType.F32);
    }

    @Override default void close() throws IOException {}
}
