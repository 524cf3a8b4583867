package io.headfuse.fusion;

import io.headfuse.formats.Checkpoint;
import java.io.IOException;

/**
 * A way of rewriting a checkpoint's K/V projections for fewer kv heads. Two steps, so a user can look at the
 * groups before anything is written ({@code headfuse plan}): {@link #plan} decides which query heads share each
 * kv head, {@link #apply} produces the rewritten tensors (lazily: a {@link FusionResult} computes each tensor
 * only when the writer asks for it).
 */
public interface FusionStrategy {
    /** The name used on the command line ({@code --strategy NAME}). */
    String name();

    /** True when {@link FusionRequest#calibration()} must be filled before {@link #plan} (the pipeline runs the model). */
    default boolean needsCalibration() { return false; }

    FusionPlan plan(Checkpoint in, FusionRequest request) throws IOException;

    FusionResult apply(Checkpoint in, FusionPlan plan, FusionRequest request) throws IOException;
}
