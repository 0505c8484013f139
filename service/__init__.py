"""The HTTP API: `GET /api/v1/requests` from the route to the OpenSearch call, and nothing else."""
