"""Getting requests into the index: bulk loaders, the pricing table and the synthetic data generator."""
