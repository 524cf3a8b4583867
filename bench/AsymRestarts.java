import io.headfuse.converter.report.AsymBench;
import io.headfuse.fusion.asym.AsymStrategy;
import io.headfuse.formats.calib.CalibrationStats;
import io.headfuse.uptrain.eval.TokenStream;
import java.nio.file.Path;

/**
 * What fewer swap-search restarts cost in quality: zero-shot perplexity of the default asym conversion (aligned,
 * least squares, coupled) of MODEL at each kv count and each restart count, calibrated on CALIB_TOKENS tokens of
 * CALIB_TEXT and evaluated on EVAL_TEXT's validation slice, as bench/asym-table.sh measures (in memory).
 *
 * usage: java -cp <converter classpath> bench/AsymRestarts.java MODEL CALIB_TEXT EVAL_TEXT CALIB_TOKENS KV,KV... R,R...
 */
public class AsymRestarts {
    public static void main(String[] a) throws Exception {
        AsymBench bench = new AsymBench(Path.of(a[0]));
        CalibrationStats stats = bench.calibrate(Path.of(a[1]), Integer.parseInt(a[3]));
        TokenStream stream = bench.evalStream(Path.of(a[2]));
        System.out.printf("MHA ppl %.4f%n", bench.basePpl(stream));
        for (String kv : a[4].split(","))
            for (String r : a[5].split(",")) {
                AsymStrategy s = new AsymStrategy(AsymStrategy.Settings.defaults().withRestarts(Integer.parseInt(r)));
                AsymBench.Row row = bench.run(new AsymBench.Variant("restarts " + r, s), Integer.parseInt(kv), stats, stream);
                System.out.printf("kv %s restarts %s: ppl %.4f, convert %.1f s%n", kv, r, row.ppl(), row.convertSeconds());
            }
        bench.close();
    }
}
