"""The request being served: its id and, once the key is checked, its tenant and key id.

Kept in a context variable so that every log line of a request carries its id, whichever module logs it (the
error middleware's 500, the engine failure log), without passing the request down every call.
"""

from __future__ import annotations

import os
import re
from contextvars import ContextVar, Token
from dataclasses import dataclass

from aiohttp import web

REQUEST_ID_HEADER = "X-Request-Id"
REQUEST_ID = web.RequestKey("request_id", str)  # the id on the request itself, for what runs outside its context
# A client's own id is kept (to follow a call through a proxy's logs and ours) only when it is short and plain:
# anything else could forge log structure or carry a secret into the logs, and gets an id of ours instead.
_SAFE_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")


@dataclass(slots=True)
class RequestFacts:
    request_id: str
    tenant: str | None = None
    key_id: str | None = None  # the id `llmsearch keys list` shows; never the key


_CURRENT: ContextVar[RequestFacts | None] = ContextVar("llmsearch_request", default=None)


def request_id_for(header: str | None) -> str:
    """The client's `X-Request-Id` when it is safe to log and echo, else a new one."""
    if header is not None and _SAFE_REQUEST_ID.fullmatch(header):
        return header
    return os.urandom(16).hex()  # 128 random bits, like a uuid4's hex, at a sixth of its cost


def current_request() -> RequestFacts | None:
    return _CURRENT.get()


def note_caller(tenant: str, key_id: str) -> None:
    """Record who is calling, for the request's access log line (called once the key is checked)."""
    facts = _CURRENT.get()
    if facts is not None:
        facts.tenant = tenant
        facts.key_id = key_id


def serving(facts: RequestFacts) -> Token[RequestFacts | None]:
    """Make `facts` the current request's; pass the returned token to `done_serving`."""
    return _CURRENT.set(facts)


def done_serving(token: Token[RequestFacts | None]) -> None:
    # Reset, not left set: the next request on a kept-alive connection runs in the same task, hence context.
    _CURRENT.reset(token)
