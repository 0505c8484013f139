"""The key that signs paging cursors (service.cursor).

It comes from `LLMSEARCH_CURSOR_SECRET` when that is set. Otherwise it is generated on first use and kept in
OpenSearch (`<prefix>-secrets`), so that every instance of the service, and every restart, signs and checks
cursors with the same key: a cursor from one instance works on another. Two instances starting at once both try
to create the document with `op_type=create`; one wins, and the other reads what the winner wrote.
"""

from __future__ import annotations

import asyncio
import secrets
from datetime import UTC, datetime
from typing import Any

from aiohttp import web
from opensearchpy import AsyncOpenSearch
from opensearchpy.exceptions import ConflictError, NotFoundError, RequestError
from pydantic import BaseModel, Field, SecretStr

from core.templates import IndexNames

SECRET_ID = "cursor-signing-key"
SECRET_BYTES = 32  # 256 random bits, as long as the HMAC-SHA256 output it keys
SECRETS_INDEX_BODY: dict[str, Any] = {
    "settings": {"index": {"number_of_shards": 1, "auto_expand_replicas": "0-1"}},
    "mappings": {
        "dynamic": "strict",
        # Read by id only: nothing is searched, so nothing is indexed.
        "properties": {
            "value": {"type": "keyword", "index": False, "doc_values": False},
            "created_at": {"type": "date"},
        },
    },
}


class StoredSecret(BaseModel):
    value: str = Field(min_length=32)
    created_at: datetime


class CursorSecret:
    """The signing key, fetched (or created) once per process on first need and kept in memory after."""

    def __init__(self, client: AsyncOpenSearch, names: IndexNames, configured: SecretStr | None) -> None:
        self._client = client
        self._index = names.secrets_index
        self._key = configured.get_secret_value().encode() if configured is not None else None
        self._lock = asyncio.Lock()

    async def key(self) -> bytes:
        if self._key is None:
            # One lookup however many requests arrive together before the first finishes.
            async with self._lock:
                if self._key is None:
                    self._key = (await load_or_create_secret(self._client, self._index)).encode()
        return self._key


async def load_or_create_secret(client: AsyncOpenSearch, index: str) -> str:
    stored = await _stored(client, index)
    if stored is not None:
        return stored
    try:
        await client.indices.create(index=index, body=SECRETS_INDEX_BODY)
    except RequestError as error:
        if error.error != "resource_already_exists_exception":
            raise
    record = StoredSecret(value=secrets.token_urlsafe(SECRET_BYTES), created_at=datetime.now(UTC))
    try:
        await client.create(index=index, id=SECRET_ID, body=record.model_dump(mode="json"), refresh="wait_for")
    except ConflictError:
        # Another instance created it between our look and our write: use theirs, so both sign alike.
        stored = await _stored(client, index)
        if stored is None:
            raise
        return stored
    return record.value


async def _stored(client: AsyncOpenSearch, index: str) -> str | None:
    try:
        found = await client.get(index=index, id=SECRET_ID)  # a realtime get: sees a write not yet refreshed
    except NotFoundError:  # no index yet, or no document
        return None
    return StoredSecret.model_validate(found["_source"]).value


CURSOR_SECRET = web.AppKey("cursor_secret", CursorSecret)
