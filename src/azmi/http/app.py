"""Composition root: settings + store + clock -> services -> one ASGI app (or wire handler) per surface."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from azmi.clock import Clock
from azmi.http.appservice import AppServiceHandler
from azmi.http.arm import create_arm_app
from azmi.http.blob import create_blob_handler
from azmi.http.endpoints import Endpoints
from azmi.http.imds import ImdsHandler
from azmi.http.keyvault import MAX_BODY as VAULT_MAX_BODY, create_keyvault_handler
from azmi.http.login import create_login_app
from azmi.http.wire import AsgiAdapter
from azmi.services.system import Services, build_services
from azmi.settings import Settings
from azmi.store import Store

HTTPS_SURFACES = ("arm", "login", "keyvault", "blob")


@dataclass
class Azmi:
    services: Services
    endpoints: Endpoints
    apps: dict[str, Any]


def create_app(settings: Settings, store: Store, clock: Clock, endpoints: Endpoints, trust_bundle: str) -> Azmi:
    services = build_services(settings, store, clock, endpoints.blob)
    apps = {
        "arm": create_arm_app(services, endpoints, trust_bundle),
        "login": create_login_app(services, endpoints),
        "imds": AsgiAdapter(ImdsHandler(services)),
        "appservice": AsgiAdapter(AppServiceHandler(services)),
        "keyvault": AsgiAdapter(create_keyvault_handler(services, endpoints.login), max_body=VAULT_MAX_BODY + 1),
        "blob": AsgiAdapter(create_blob_handler(services, endpoints.login), streaming=True),
    }
    return Azmi(services, endpoints, apps)
