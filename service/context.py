"""What every handler needs, stored once on the application."""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web
from opensearchpy import AsyncOpenSearch

from core.settings import ServiceSettings
from core.templates import IndexNames
from service.keys import KeyStore


@dataclass(frozen=True)
class Services:
    client: AsyncOpenSearch
    names: IndexNames
    keys: KeyStore
    settings: ServiceSettings


SERVICES = web.AppKey("services", Services)
