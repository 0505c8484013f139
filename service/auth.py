"""Who is calling: the `Authorization` header (`Bearer <key>` or the bare key) resolved to a tenant."""

from __future__ import annotations

from service.errors import INVALID_KEY, MISSING_KEY, ApiError
from service.keys import KeyStore, Scope
from service.observability.request_context import note_caller

MAX_KEY_LENGTH = 256


def presented_key(header: str | None) -> str | None:
    if header is None:
        return None
    value = header.strip()
    scheme, _, rest = value.partition(" ")
    if scheme.lower() == "bearer":
        value = rest.strip()
    return value or None


# A valid key without the scope a route needs: 403, distinct from the spec's two 401s for missing or invalid keys.
MISSING_SCOPE = {Scope.READ: "This API key cannot read.", Scope.WRITE: "This API key cannot write."}


async def tenant_of_request(header: str | None, keys: KeyStore, scope: Scope = Scope.READ) -> str:
    """The tenant of the presented key, which must have `scope` (every reading route asks for `read`)."""
    key = presented_key(header)
    if key is None:
        raise ApiError(401, MISSING_KEY)
    if len(key) > MAX_KEY_LENGTH or not key.isascii():
        raise ApiError(401, INVALID_KEY)
    grant = await keys.grant_for(key)
    if grant is None:
        raise ApiError(401, INVALID_KEY)
    note_caller(grant.tenant_id, grant.key_id)  # for the access log (before the scope check: a 403 names it too)
    if scope not in grant.scopes:
        raise ApiError(403, MISSING_SCOPE[scope])
    return grant.tenant_id
