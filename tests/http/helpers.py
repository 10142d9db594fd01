"""Builders shared by the in-process wire tests: ARM calls as the operator, IMDS and App Service calls
as a workload, and token decoding.

Everything goes through the public wire (`wire.arm`, `wire.imds`, ...); the only shortcut is reading
a resource's binding secrets from the control plane, which is what `azmi env` hands a workload.
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any, Iterator

import httpx
import jwt


from azmi.ids import parse_resource_id
from tests.conftest import API, TYPES, Wire, make_wire

API = {**API, "logic": "2019-05-01", "apim": "2024-05-01", "aks": "2025-01-01"}
TYPES = {**TYPES, "logic": "Microsoft.Logic/workflows", "apim": "Microsoft.ApiManagement/service",
         "aks": "Microsoft.ContainerService/managedClusters"}

MGMT = "https://management.azure.com/"
VAULT = "https://vault.azure.net"
IMDS_TOKEN = "/metadata/identity/oauth2/token"


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def build_wire(tmp_path: Path, **overrides: Any) -> Iterator[Wire]:
    """Like the `wire` fixture, with Settings overrides (low limits, short lifetimes); use with `yield from`."""
    yield from make_wire(tmp_path, **overrides)


# -- ARM as the operator ---------------------------------------------------------------------------
def arm(wire: Wire, method: str, path: str, api: str | None, body: Any = None, *,
        headers: dict[str, str] | None = None, content: bytes | None = None) -> httpx.Response:
    params = {"api-version": api} if api else None
    h = {**wire.auth(), **(headers or {})}
    if content is not None:
        return wire.arm.request(method, path, params=params, content=content,
                                headers={"Content-Type": "application/json", **h})
    return wire.arm.request(method, path, params=params, json=body, headers=h)


def group_path(wire: Wire, group: str) -> str:
    return f"/subscriptions/{wire.sub}/resourceGroups/{group}"


def resource_path(wire: Wire, kind: str, group: str, name: str) -> str:
    return f"{group_path(wire, group)}/providers/{TYPES[kind]}/{name}"


def new_group(wire: Wire, name: str | None = None, location: str = "eastus") -> str:
    name = name or unique("rg")
    r = arm(wire, "PUT", group_path(wire, name), API["group"], {"location": location})
    assert r.status_code == 201, r.text
    return name


def put(wire: Wire, kind: str, group: str, name: str, body: dict[str, Any] | None = None,
        expect: int | None = None) -> httpx.Response:
    r = arm(wire, "PUT", resource_path(wire, kind, group, name), API[kind], {"location": "eastus", **(body or {})})
    if expect is not None:
        assert r.status_code == expect, r.text
    return r


def patch(wire: Wire, kind: str, group: str, name: str, body: dict[str, Any]) -> httpx.Response:
    return arm(wire, "PATCH", resource_path(wire, kind, group, name), API[kind], body)


def get(wire: Wire, kind: str, group: str, name: str) -> httpx.Response:
    return arm(wire, "GET", resource_path(wire, kind, group, name), API[kind])


def delete(wire: Wire, kind: str, group: str, name: str) -> httpx.Response:
    return arm(wire, "DELETE", resource_path(wire, kind, group, name), API[kind])


def new_uami(wire: Wire, group: str, name: str | None = None) -> dict[str, Any]:
    name = name or unique("id")
    return put(wire, "msi", group, name, expect=201).json()


def with_system(wire: Wire, kind: str, group: str, name: str | None = None,
                users: list[str] = ()) -> dict[str, Any]:  # type: ignore[assignment]
    """Create a resource with a system-assigned identity (plus the given user-assigned ids)."""
    name = name or unique(kind)
    identity: dict[str, Any] = {"type": "SystemAssigned"}
    if users:
        identity = {"type": "SystemAssigned,UserAssigned", "userAssignedIdentities": {u: {} for u in users}}
    return put(wire, kind, group, name, {"identity": identity}, expect=201).json()


def with_users(wire: Wire, kind: str, group: str, users: list[str], name: str | None = None) -> dict[str, Any]:
    name = name or unique(kind)
    identity = {"type": "UserAssigned", "userAssignedIdentities": {u: {} for u in users}}
    return put(wire, kind, group, name, {"identity": identity}, expect=201).json()


def list_names(wire: Wire, group: str) -> list[str]:
    r = arm(wire, "GET", f"{group_path(wire, group)}/resources", API["group"])
    assert r.status_code == 200, r.text
    return sorted(item["name"] for item in r.json()["value"])


def error_of(r: httpx.Response) -> dict[str, Any]:
    """The ARM error envelope's inner object; asserts the shape."""
    body = r.json()
    assert set(body) == {"error"}, body
    assert isinstance(body["error"]["code"], str) and body["error"]["code"]
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    return dict(body["error"])


# -- workload side -----------------------------------------------------------------------------------
def binding_key(wire: Wire, resource_id: str) -> str:
    return wire.azmi.services.control.get_resource(parse_resource_id(resource_id)).binding_key


def identity_header(wire: Wire, resource_id: str) -> str:
    return wire.azmi.services.control.get_resource(parse_resource_id(resource_id)).identity_header


def imds_get(wire: Wire, key: str | None, params: dict[str, str] | list[tuple[str, str]] | None = None,
             headers: dict[str, str] | None = None, path: str = IMDS_TOKEN) -> httpx.Response:
    prefix = f"/{key}" if key else ""
    h = {"Metadata": "true"} if headers is None else headers
    return wire.imds.get(prefix + path, params=params, headers=h)


def imds_token(wire: Wire, on: str, resource: str = MGMT, **selectors: str) -> httpx.Response:
    """A token request from the resource `on` (its ARM id), with optional selector parameters."""
    return imds_get(wire, binding_key(wire, on),
                    {"api-version": "2018-02-01", "resource": resource, **selectors})


def claims(token: str) -> dict[str, Any]:
    return dict(jwt.decode(token, options={"verify_signature": False}))
