"""The original system's table (Prisma's `"Request"`) and the two index sets the PostgreSQL baselines run with.

`naive`: what the original had, the primary key and the `"userId"` index Prisma's `@@index([userId])` makes.
`tuned`: what a careful DBA adds for this workload: b-trees that serve each sort within the tenant, a pg_trgm GIN
index over the searched text (for substring and CJK search) and a full-text GIN index over the same text.
"""

from __future__ import annotations

from core.fields import RETURNED, TABLE, Origin

# Everything lives in a schema of its own, so a server that also holds the original system's "Request" table (say,
# POSTGRES_DSN pointing at a copy of it) keeps it: the benchmark only ever drops llmsearch_bench."Request".
SCHEMA = "llmsearch_bench"
SEARCH_PATH = f"{SCHEMA},public"

TABLE_DDL = """
CREATE TABLE "Request" (
    id text PRIMARY KEY,
    "userId" text NOT NULL,
    openai_id text,
    ip text,
    url text,
    method text,
    status integer,
    cached boolean NOT NULL DEFAULT false,
    streamed boolean NOT NULL DEFAULT false,
    user_id text,
    app_id text,
    model text,
    prompt_tokens integer,
    completion_tokens integer,
    request_headers jsonb,
    request_body jsonb,
    response_headers jsonb,
    response_body jsonb,
    streamed_response_body text,
    completion text,
    "createdAt" timestamp(3) NOT NULL DEFAULT now(),
    "updatedAt" timestamp(3) NOT NULL,
    cost double precision
)
"""

COPY_COLUMNS: tuple[str, ...] = (
    "id",
    "userId",
    "openai_id",
    "ip",
    "url",
    "method",
    "status",
    "cached",
    "streamed",
    "user_id",
    "app_id",
    "model",
    "prompt_tokens",
    "completion_tokens",
    "request_headers",
    "request_body",
    "response_headers",
    "response_body",
    "streamed_response_body",
    "completion",
    "createdAt",
    "updatedAt",
    "cost",
)
JSONB_COLUMNS = frozenset({"request_headers", "request_body", "response_headers", "response_body"})
NOT_NULL = frozenset({"id", "userId", "cached", "streamed", "createdAt", "updatedAt"})

NAIVE_INDEXES: tuple[str, ...] = ('CREATE INDEX "Request_userId_idx" ON "Request" ("userId")',)

# One text per request: the same fields the service searches (the prompt lives in request_body).
SEARCH_TEXT_FUNCTION = """
CREATE OR REPLACE FUNCTION bench_search_text(request_body jsonb, response_body jsonb, streamed text, completion text)
RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT coalesce(request_body::text, '') || ' ' || coalesce(response_body::text, '') || ' '
        || coalesce(streamed, '') || ' ' || coalesce(completion, '')
$$
"""
SEARCH_TEXT = "bench_search_text(request_body, response_body, streamed_response_body, completion)"
SEARCH_TSVECTOR = f"to_tsvector('simple'::regconfig, {SEARCH_TEXT})"
NAIVE_TEXT_COLUMNS: tuple[str, ...] = (
    "request_body::text",
    "response_body::text",
    "streamed_response_body",
    "completion",
)

TUNED_SETUP: tuple[str, ...] = ("CREATE EXTENSION IF NOT EXISTS pg_trgm", SEARCH_TEXT_FUNCTION)
TUNED_INDEXES: dict[str, str] = {
    "Request_tenant_created_idx": 'CREATE INDEX "Request_tenant_created_idx" ON "Request" '
    '("userId", "createdAt" DESC, id DESC)',
    "Request_tenant_user_created_idx": 'CREATE INDEX "Request_tenant_user_created_idx" ON "Request" '
    '("userId", user_id, "createdAt" DESC, id DESC)',
    "Request_tenant_model_cost_idx": 'CREATE INDEX "Request_tenant_model_cost_idx" ON "Request" '
    '("userId", model, cost DESC NULLS LAST, id DESC)',
    "Request_openai_id_idx": 'CREATE INDEX "Request_openai_id_idx" ON "Request" (openai_id)',
    "Request_search_trgm_idx": f'CREATE INDEX "Request_search_trgm_idx" ON "Request" USING gin ({SEARCH_TEXT} gin_trgm_ops)',
    "Request_search_fts_idx": f'CREATE INDEX "Request_search_fts_idx" ON "Request" USING gin ({SEARCH_TSVECTOR})',
}


def quote(column: str) -> str:
    return f'"{column}"' if column != column.lower() else column


# What the API returns that the original table holds (the field table's returned ORIGINAL fields), plus
# request_headers, where metadata comes from: the page query selects these.
_ORIGINAL = {row.name for row in TABLE if row.origin is Origin.ORIGINAL}
RESPONSE_COLUMNS = ", ".join(quote(name) for name in (*(n for n in RETURNED if n in _ORIGINAL), "request_headers"))
