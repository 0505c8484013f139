"""`GET /api/v1/analytics`: the tenant's requests, selected as `/api/v1/requests` selects them, aggregated over
time and by up to two dimensions. Parameters (params, timerange) → metric and dimension tables (metrics,
dimensions) → engine bodies (bodies) → the answer (answer); run.py ties them, handler.py serves them."""
