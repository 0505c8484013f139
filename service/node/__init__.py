"""A local OpenSearch node (or small cluster) that the project fetches, configures and runs by itself."""
