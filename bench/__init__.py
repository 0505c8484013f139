"""Benchmarks: the service against raw OpenSearch and against PostgreSQL (`python -m bench.run`, see BENCHMARKS.md)."""
