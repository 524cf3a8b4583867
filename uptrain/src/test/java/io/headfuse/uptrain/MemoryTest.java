package io.headfuse.uptrain;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.headfuse.uptrain.eval.EvalOptions;
import io.headfuse.uptrain.eval.Generator;
import io.headfuse.uptrain.eval.Perplexity;
import io.headfuse.uptrain.eval.TokenStream;
import io.headfuse.uptrain.model.LlamaModel;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SegmentAllocator;
import java.lang.foreign.StructLayout;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import org.junit.jupiter.api.Test;

/**
 * Per-window sub-managers must keep native memory flat: nothing may stay attached to the model's manager, and
 * native (malloc) memory may not grow with the number of windows.
 */
class MemoryTest {
    @Test
    void nativeMemoryStaysFlatOverManyWindows() throws Throwable {
        LlamaModel m = SharedModels.model("stories260K-mha-hf");
        int[] ids = new int[300 * 64 + 1];
        for (int i = 0; i < ids.length; i++) ids[i] = 3 + (i * 7919) % 500;
        TokenStream stream = new TokenStream(ids, "x");
        EvalOptions o = EvalOptions.defaults().withWindow(64);
        Perplexity.evaluate(m, new TokenStream(java.util.Arrays.copyOf(ids, 50 * 64), "x"), o); // warm up allocators
        Generator.greedy(m, new int[] {1}, 50);
        int arrays = m.manager().getManagedArrays().size();
        long before = nativeKb();
        for (int r = 0; r < 3; r++) {
            Perplexity.evaluate(m, stream, o);
            Generator.greedy(m, new int[] {1}, 100);
        }
        long after = nativeKb();
        System.out.printf("malloc in use: %d MB before, %d MB after 900 windows + 300 generated tokens%n", before / 1024, after / 1024);
        assertEquals(arrays, m.manager().getManagedArrays().size(), "arrays left attached to the model's manager");
        assertTrue(after - before < 16 * 1024, "native memory grew by " + (after - before) / 1024 + " MB");
    }

    /**
     * The training loop opens one sub-manager per step for the batch, both forward passes, the backward pass and the
     * optimiser's temporaries: over 300 steps neither native memory nor the arrays attached to the model may grow.
     */
    @Test
    void nativeMemoryStaysFlatOverTrainingSteps(@org.junit.jupiter.api.io.TempDir java.nio.file.Path tmp) throws Throwable {
        int seq = 32;
        java.nio.file.Path text = tmp.resolve("stories.txt");
        java.nio.file.Files.copy(io.headfuse.testkit.Assets.text("tinystories/TinyStories-valid-sample30k.txt"), text);
        io.headfuse.uptrain.train.TrainingData data;
        try (var tok = io.headfuse.uptrain.tokenizer.Tokenizers.forModel(io.headfuse.testkit.Assets.model("stories260K-mha-hf"))) {
            data = io.headfuse.uptrain.train.TrainingData.load(tok, java.util.List.of(text), 0.02, seq);
        }
        var settings = io.headfuse.uptrain.train.TrainerSettings.defaults(seq);
        try (LlamaModel teacher = LlamaModel.load(io.headfuse.testkit.Assets.model("stories260K-gqa-hf"), ai.djl.Device.cpu());
             LlamaModel student = LlamaModel.load(io.headfuse.testkit.Assets.model("stories260K-mha-hf"), ai.djl.Device.cpu())) {
            var warm = io.headfuse.uptrain.train.UptrainRecipe.defaults(50L * seq * 2, seq).withBatch(2);
            try (var t = new io.headfuse.uptrain.train.Trainer(teacher, student, data, java.util.List.of(), warm, settings)) {
                t.run(io.headfuse.uptrain.train.TrainListener.NONE, null);     // warm up allocators
            }
            int arrays = student.manager().getManagedArrays().size();
            long before = nativeKb();
            var recipe = io.headfuse.uptrain.train.UptrainRecipe.defaults(300L * seq * 2, seq).withBatch(2);
            try (var t = new io.headfuse.uptrain.train.Trainer(teacher, student, data, java.util.List.of(), recipe, settings)) {
                t.run(io.headfuse.uptrain.train.TrainListener.NONE, null);
            }
            long after = nativeKb();
            System.out.printf("malloc in use: %d MB before, %d MB after 300 training steps%n", before / 1024, after / 1024);
            assertEquals(arrays, student.manager().getManagedArrays().size(), "arrays left attached to the student's manager");
            assertTrue(after - before < 16 * 1024, "native memory grew by " + (after - before) / 1024 + " MB");
        }
    }

    /**
     * Bytes in use by malloc (glibc's mallinfo2: uordblks + hblkhd), where libtorch's CPU allocator takes its
     * memory. Resident size would mostly measure the Java heap, which grows with garbage up to -Xmx.
     */
    @SuppressWarnings("restricted")
    private static long nativeKb() throws Throwable {
        Linker linker = Linker.nativeLinker();
        MemorySegment fn = linker.defaultLookup().find("mallinfo2").orElse(null);
        assumeTrue(fn != null, "no glibc mallinfo2 to measure native memory with");
        MemoryLayout[] fields = new MemoryLayout[10];
        java.util.Arrays.fill(fields, ValueLayout.JAVA_LONG);
        StructLayout info = MemoryLayout.structLayout(fields);
        MethodHandle h = linker.downcallHandle(fn, FunctionDescriptor.of(info));
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment s = (MemorySegment) h.invokeExact((SegmentAllocator) arena);
            return (s.get(ValueLayout.JAVA_LONG, 7 * 8) + s.get(ValueLayout.JAVA_LONG, 4 * 8)) / 1024;
        }
    }
}
