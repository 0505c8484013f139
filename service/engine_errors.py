"""What an OpenSearch failure means for the client: the engine's trouble is a 503, never a 500."""

from __future__ import annotations

import asyncio
import logging

from opensearchpy.exceptions import ConnectionError, NotFoundError, RequestError, TransportError

from service.errors import ApiError

log = logging.getLogger(__name__)
RETRY_AFTER = {"Retry-After": "1"}
UNAVAILABLE_STATUSES = {429, 502, 503, 504}
QUERY_TOO_COMPLEX = frozenset({"too_many_nested_clauses", "too_many_clauses"})


def api_error_for(error: Exception) -> ApiError | None:
    """The ApiError a failed engine call becomes, or None if it is not an engine failure."""
    if isinstance(error, ConnectionError | asyncio.TimeoutError | TimeoutError):
        return ApiError(503, "The search engine is unavailable or timed out; try again shortly.", RETRY_AFTER)
    if isinstance(error, NotFoundError):
        return ApiError(503, "The request index is not ready yet; try again shortly.", RETRY_AFTER)
    if isinstance(error, RequestError):
        # The builder validates everything it sends, so this is a query the engine finds too costly
        # (e.g. a search expanding to too many clauses): the client can change it.
        log.warning("engine rejected a query: %s", error.info)
        return ApiError(400, f"The search engine rejected this query ({_reason(error)}); simplify search or filter.")
    if isinstance(error, TransportError):
        if _root_cause_type(error) in QUERY_TOO_COMPLEX:
            # The builder counts clauses before asking (service.search_text); should an estimate ever fall short,
            # a retry would fail the same way, so this is the client's to change, not a 503.
            log.warning("engine found a query too complex: %s", _reason(error))
            return ApiError(400, "search: the query expands to more clauses than the engine allows; use fewer terms.")
        if isinstance(error.status_code, int) and error.status_code in UNAVAILABLE_STATUSES:
            return ApiError(503, "The search engine is overloaded; try again shortly.", RETRY_AFTER)
        log.error("engine error %s: %s", error.status_code, error.info)
        return ApiError(503, "The search engine failed to answer; try again shortly.", RETRY_AFTER)
    return None


def _root_cause_type(error: TransportError) -> str | None:
    info = error.info if isinstance(error.info, dict) else {}
    root = (info.get("error") or {}).get("root_cause") or [{}]
    kind = root[0].get("type") if isinstance(root[0], dict) else None
    return str(kind) if kind else None


def _reason(error: TransportError) -> str:
    info = error.info if isinstance(error.info, dict) else {}
    root = (info.get("error") or {}).get("root_cause") or [{}]
    reason = root[0].get("reason") or str(error.error)
    return str(reason)[:200]
