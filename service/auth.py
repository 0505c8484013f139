"""Who is calling: the `Authorization` header (`Bearer <key>` or the bare key) resolved to a tenant."""

from __future__ import annotations

from service.errors import INVALID_KEY, MISSING_KEY, ApiError
from service.keys import KeyStore

MAX_KEY_LENGTH = 256


def presented_key(header: str | None) -> str | None:
    if header is None:
        return None
    value = header.strip()
    scheme, _, rest = value.partition(" ")
    if scheme.lower() == "bearer":
        value = rest.strip()
    return value or None


async def tenant_of_request(header: str | None, keys: KeyStore) -> str:
    key = presented_key(header)
    if key is None:
        raise ApiError(401, MISSING_KEY)
    if len(key) > MAX_KEY_LENGTH or not key.isascii():
        raise ApiError(401, INVALID_KEY)
    tenant = await keys.tenant_for(key)
    if tenant is None:
        raise ApiError(401, INVALID_KEY)
    return tenant
