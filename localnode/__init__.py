"""Local servers for development, tests and benchmarks: an OpenSearch node (or small cluster) fetched, configured and
run by the project itself, and a throwaway PostgreSQL."""
