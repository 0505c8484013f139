"""What every other package shares: the request field table, documents, index templates, pricing, settings and
the engine client. It imports nothing of the project's above it."""
