"""Sources of raw request records: each a small module that only reads (see base.Source)."""
