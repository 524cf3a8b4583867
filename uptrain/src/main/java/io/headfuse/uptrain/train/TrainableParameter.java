package io.headfuse.uptrain.train;

import ai.djl.ndarray.NDArray;

/**
 * One parameter the optimiser updates: the student's weight array itself (updated in place), its AdamW moments in
 * the trainer's manager, and a learning-rate multiplier (the rewritten k/v projections may train faster).
 */
record TrainableParameter(String name, NDArray weight, NDArray expAvg, NDArray expAvgSq, double lrScale) {}
