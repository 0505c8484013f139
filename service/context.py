"""What every handler needs, stored once on the application."""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web
from opensearchpy import AsyncOpenSearch

from service.keys import KeyStore
from service.settings import ServiceSettings
from service.templates import IndexNames


@dataclass(frozen=True)
class Services:
    client: AsyncOpenSearch
    names: IndexNames
    keys: KeyStore
    settings: ServiceSettings


SERVICES = web.AppKey("services", Services)
