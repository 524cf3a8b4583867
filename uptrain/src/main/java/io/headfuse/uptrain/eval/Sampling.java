package io.headfuse.uptrain.eval;

/**
 * How the next token is chosen: greedy (argmax, first index on ties, as run.c and torch do) when
 * {@code temperature} is 0, else sampled from softmax(logits / temperature), restricted to the smallest set
 * of tokens whose probability reaches {@code topP} (1 = no restriction), with a seeded generator.
 */
public record Sampling(double temperature, double topP, long seed) {
    public Sampling {
        if (temperature < 0 || Double.isNaN(temperature)) throw new IllegalArgumentException("temperature must be >= 0, got " + temperature);
        if (!(topP > 0 && topP <= 1)) throw new IllegalArgumentException("top-p must be in (0, 1], got " + topP);
    }

    public static Sampling greedy() { return new Sampling(0, 1, 0); }

    public static Sampling of(double temperature, long seed) { return new Sampling(temperature, 1, seed); }

    public boolean isGreedy() { return temperature == 0; }
}
