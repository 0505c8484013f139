"""Getting requests into the index: sources -> documents -> bulk, and the synthetic data generator."""
