package io.headfuse.uptrain.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import org.junit.jupiter.api.Test;

/**
 * compare's KL is KL(teacher || student), weighted by the teacher's distribution. Checked on two distributions
 * over two tokens whose KLs were worked out by hand, and which differ by direction:
 * teacher (0.5, 0.5), student (0.9, 0.1):
 * KL(t || s) = 0.5 ln(0.5/0.9) + 0.5 ln(0.5/0.1) = 0.5 (ln 5 - ln 1.8) = 0.510826;
 * KL(s || t) = 0.9 ln(0.9/0.5) + 0.1 ln(0.1/0.5) = 0.529008 - 0.160944 = 0.368064.
 * A second row with equal distributions has KL 0.
 */
class KlDirectionTest {
    @Test
    void klWeightsByTheTeacher() {
        try (NDManager m = NDManager.newBaseManager("PyTorch")) {
            var teacher = m.create(new float[] {0.5f, 0.5f, 0.25f, 0.75f}, new Shape(2, 2)).log();
            var student = m.create(new float[] {0.9f, 0.1f, 0.25f, 0.75f}, new Shape(2, 2)).log();
            float[] kl = TokenScores.klTeacherStudent(teacher, student);
            assertEquals(2, kl.length);
            assertEquals(0.510826, kl[0], 1e-5, "KL(teacher || student), not KL(student || teacher) = 0.368064");
            assertEquals(0.0, kl[1], 1e-7);
            assertEquals(0.368064, TokenScores.klTeacherStudent(student, teacher)[0], 1e-5);
        }
    }
}
