package io.headfuse.converter.cli;

import io.headfuse.converter.ConsoleProgress;
import io.headfuse.converter.ConvertOptions;
import io.headfuse.converter.Headfuse;
import io.headfuse.converter.Progress;
import io.headfuse.converter.report.SimilarityHeatmap;
import io.headfuse.fusion.FusionPlan;
import io.headfuse.fusion.LayerPlan;
import io.headfuse.fusion.asym.AsymStrategy;
import io.headfuse.fusion.dha.DhaStrategy;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.apache.commons.cli.CommandLine;
import org.apache.commons.cli.Option;
import org.apache.commons.cli.Options;

/** {@code headfuse plan}: the groups a conversion would choose, layer by layer, without writing a checkpoint. */
final class PlanCommand implements Command {
    @Override public String name() { return "plan"; }
    @Override public String summary() { return "show which heads a conversion would merge, per layer, without writing anything"; }
    @Override public String usage() { return "[--model IN] --kv-heads N [--strategy mean | --strategy asym|dha --calib FILE... [asym or dha options, as for convert]] [--png FILE]"; }

    @Override
    public Options options() {
        Options o = ConvertCommand.ConvertArgs.common();
        o.addOption(Option.builder().longOpt("png").hasArg().argName("FILE").desc("also draw the per-layer head-similarity heatmaps with the groups (asym); the folder must exist").build());
        return o;
    }

    @Override
    public int run(CommandLine cl, PrintStream out) throws Exception {
        // plan shares convert's options, but it trains nothing: learned-fusion flags would be silently ignored.
        List<String> training = DhaFlags.learnedFusionFlags(cl, true);
        if (!training.isEmpty())
            throw new UsageException("plan prints the groups and budgets without training: " + String.join(", ", training) + " belong to convert");
        Path png = cl.hasOption("png") ? Args.reportFile(cl, "png") : null;
        ConvertOptions o = ConvertCommand.ConvertArgs.common(cl, Path.of("."));
        FusionPlan plan;
        try (Progress progress = new ConsoleProgress()) {
            plan = Headfuse.plan(o, progress);
        }
        out.printf("%s: %d -> %d kv heads, strategy %s%n", o.model(), plan.heads(), plan.kvHeads(), plan.strategy());
        if (plan.details().get("method") != null) out.println(plan.details().get("method"));
        List<?> details = plan.details().get(AsymStrategy.LAYERS) instanceof List<?> l ? l : List.of();
        for (LayerPlan lp : plan.layers()) {
            Map<?, ?> d = lp.layer() < details.size() && details.get(lp.layer()) instanceof Map<?, ?> m ? m : Map.of();
            String k = groups(lp.kGroups()), v = groups(lp.vGroups());
            out.printf("layer %2d  K %s%s%n", lp.layer(), k, errors(d, "k"));
            out.printf("          V %s%s%s%n", lp.coupled() ? "(same as K)" : v, errors(d, "v"), lp.seconds() > 0 ? String.format("   %.2f s", lp.seconds()) : "");
        }
        if (plan.details().get(DhaStrategy.K_HEADS) instanceof int[] kh && plan.details().get(DhaStrategy.V_HEADS) instanceof int[] vh)
            out.print(DhaBudgets.table(kh, vh, plan.kvHeads(), plan.details()));
        if (plan.details().get(DhaStrategy.HF_NOTE) instanceof String why) out.println("plain transformers cannot load this layout: " + why);
        else out.println(plan.coupled() ? "K and V share every grouping: the converted checkpoint loads in plain transformers"
                : "K and V group differently in some layers: the checkpoint would carry headfuse head maps (leave out --decoupled for plain transformers)");
        if (png != null) {
            if (SimilarityHeatmap.write(plan, o.model().getFileName() + ": " + plan.strategy() + ", " + plan.kvHeads() + " kv heads", png))
                out.println("heatmaps: " + png);
            else out.println("no heatmaps: strategy " + plan.strategy() + " does not measure head similarity");
        }
        return 0;
    }

    private static String groups(int[][] groups) {
        return Arrays.stream(groups).map(g -> Arrays.stream(g).mapToObj(Integer::toString).collect(Collectors.joining(" ", "[", "]")))
                .collect(Collectors.joining(""));
    }

    private static String errors(Map<?, ?> d, String kind) {
        if (!(d.get(kind + "_error") instanceof Double e) || !(d.get(kind + "_error_mean_pool") instanceof Double base)) return "";
        return String.format("   error %.3f (mean-pool %.3f)", e, base);
    }
}
