"""Health, metrics and logs: what an operator sees of the service.

- `health`: `GET /healthz` (the process answers; no engine call) and `GET /readyz` (the engine answers and the
  templates, aliases and keys index are there).
- `metrics`: the Prometheus metrics, in a registry of the app's own, and where `GET /metrics` is served.
- `request_context`: the request id and the caller of the request being served, for every log line it causes.
- `access`: the middleware that gives each request its id and counts, times and logs it (one JSON line).
- `logs`: the JSON (or text) log formatter and the process's log set-up.
"""
