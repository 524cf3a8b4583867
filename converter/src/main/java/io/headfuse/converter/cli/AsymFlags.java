package io.headfuse.converter.cli;

import io.headfuse.fusion.StrategyOptions;
import io.headfuse.fusion.asym.AsymOptions;
import io.headfuse.fusion.asym.AsymStrategy;
import io.headfuse.fusion.asym.HeadSimilarity;
import java.util.List;
import java.util.Locale;
import org.apache.commons.cli.CommandLine;
import org.apache.commons.cli.Option;

/**
 * {@code --strategy asym}. Alignment, least squares and coupled K/V are on by default (the best variant that plain
 * transformers loads); each has an off switch, and the old on switches are still accepted.
 */
final class AsymFlags implements StrategyFlags {
    @Override public String strategy() { return AsymStrategy.NAME; }
    @Override public String description() { return "asym: activation-informed grouping (AsymGQA), aligned, least squares, K/V coupled by default"; }
    @Override public boolean calibrated() { return true; }

    @Override
    public List<Option> options() {
        return List.of(
                flag("align", "align heads before merging them (asym; default on)"),
                flag("no-align", "do not align heads before merging (asym)"),
                flag("lsq", "pool each group by least squares (asym; default on)"),
                flag("no-lsq", "pool each group by the plain mean instead of least squares (asym)"),
                flag("coupled", "one grouping for K and V: plain transformers loads the result (asym; default on)"),
                flag("decoupled", "group K and V separately: lower error, but config.json then needs headfuse's head maps (asym)"),
                valued("grouping", "G", "swaps (equal-size groups, default) or ward (unequal sizes; needs headfuse's head maps) (asym)"),
                valued("objective", "O", "reconstruction (error of the pooled head, default) or similarity (within-group similarity) (asym)"),
                valued("similarity", "S", "head similarity of the similarity objective and the heatmaps: cka or cosine; default cka when aligning "
                        + "(the default), cosine with --no-align (asym)"),
                valued("seed", "S", "seed of the grouping search (asym, default 0)"),
                valued("restarts", "N", "starts of the swap search, the first the contiguous grouping (asym, default "
                        + AsymOptions.DEFAULT_RESTARTS + "; fewer is faster on many heads, see README Scale)"));
    }

    @Override
    public StrategyOptions parse(CommandLine cl) throws UsageException {
        AsymStrategy.Settings s = AsymStrategy.Settings.defaults();
        boolean align = onOff(cl, "align", "no-align", s.align());
        boolean lsq = onOff(cl, "lsq", "no-lsq", s.leastSquares());
        boolean coupled = onOff(cl, "coupled", "decoupled", s.coupled());
        s = s.with(align, lsq, coupled, Args.longValue(cl, "seed", s.seed()));
        int restarts = Args.intValue(cl, "restarts", s.restarts());
        if (restarts <= 0) throw new UsageException("--restarts must be a positive whole number, got " + cl.getOptionValue("restarts"));
        s = s.withRestarts(restarts);
        String grouping = choice(cl, "grouping", "swaps", "ward");
        if (grouping != null) s = s.withSearch(AsymOptions.Search.valueOf(grouping.toUpperCase(Locale.ROOT)));
        String objective = choice(cl, "objective", "reconstruction", "similarity");
        if (objective != null) s = s.withObjective(AsymOptions.Objective.valueOf(objective.toUpperCase(Locale.ROOT)));
        String similarity = choice(cl, "similarity", "cosine", "cka");
        if (similarity != null) s = s.withSimilarity(HeadSimilarity.byName(similarity));
        return s;
    }

    private static boolean onOff(CommandLine cl, String on, String off, boolean dflt) throws UsageException {
        if (cl.hasOption(on) && cl.hasOption(off)) throw new UsageException("--" + on + " and --" + off + " contradict each other");
        return cl.hasOption(on) || (!cl.hasOption(off) && dflt);
    }

    private static String choice(CommandLine cl, String opt, String... allowed) throws UsageException {
        String v = cl.getOptionValue(opt);
        if (v != null && !List.of(allowed).contains(v))
            throw new UsageException("--" + opt + " must be one of " + String.join(", ", allowed) + ", got '" + v + "'");
        return v;
    }

    private static Option flag(String name, String desc) { return Option.builder().longOpt(name).desc(desc).build(); }

    private static Option valued(String name, String arg, String desc) { return Option.builder().longOpt(name).hasArg().argName(arg).desc(desc).build(); }
}
