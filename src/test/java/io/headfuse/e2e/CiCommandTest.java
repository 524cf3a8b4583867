package io.headfuse.e2e;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * .ci/run is README's test command with the assets required: if either changes alone, CI would no longer run
 * what a user is told to run, or a CI without assets could skip its way to green.
 */
class CiCommandTest {
    @Test
    void ciRunsTheReadmeTestCommandWithAssetsRequired() throws Exception {
        String readme = Files.readString(Path.of("README.md")), ci = Files.readString(Path.of(".ci/run"));
        String line = readme.lines().filter(l -> l.contains("mvn ") && l.contains("# the tests")).findFirst()
                .orElseThrow(() -> new AssertionError("README has no test command line marked '# the tests'"));
        String command = line.substring(0, line.indexOf('#')).strip();
        assertTrue(ci.lines().anyMatch(l -> l.strip().equals(command)), ".ci/run does not run README's test command: " + command);
        assertTrue(ci.lines().anyMatch(l -> l.strip().equals("export HEADFUSE_REQUIRE_ASSETS=1")), ".ci/run must require the assets");
    }
}
