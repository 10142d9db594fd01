"""Web and function apps (`Microsoft.Web/sites`) through the App Service identity endpoint.

The app's environment carries `IDENTITY_ENDPOINT`/`IDENTITY_HEADER` (and the legacy
`MSI_ENDPOINT`/`MSI_SECRET`) only while it has an identity; the unmodified SDK picks the App
Service flow from them.
"""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

import httpx
import pytest

from tests.conftest import Server
from tests.sdk.helpers import (VAULT, assert_principal, error_from, identity_of, snippet, token_from, uami,
                               user_assigned, verify)

FLAVOURS = [("ManagedIdentityCredential", False), ("ManagedIdentityCredential", True),
            ("DefaultAzureCredential", False), ("DefaultAzureCredential", True)]
FLAVOUR_IDS = ["mi-sync", "mi-async", "dac-sync", "dac-async"]


@pytest.fixture(scope="module")
def group(server: Server) -> str:
    return server.new_group()


@pytest.fixture(scope="module", params=["app", "functionapp"])
def app(request: pytest.FixtureRequest, server: Server, group: str) -> dict[str, Any]:
    kind = request.param
    return server.put("site", group, f"{kind}-system", {"kind": kind, "identity": {"type": "SystemAssigned"}},
                      expect=201)


def test_environment_of_an_app_with_identity(server: Server, app: dict[str, Any]) -> None:
    env = server.environment(app["id"])
    assert env["set"]["IDENTITY_ENDPOINT"].startswith("http://127.0.0.1:")
    assert env["set"]["IDENTITY_HEADER"]
    assert env["set"]["MSI_ENDPOINT"] == env["set"]["IDENTITY_ENDPOINT"]
    assert env["set"]["MSI_SECRET"] == env["set"]["IDENTITY_HEADER"]
    assert "AZURE_POD_IDENTITY_AUTHORITY_HOST" in env["unset"]
    assert env["set"]["WEBSITE_SITE_NAME"] == app["name"]
    assert ("FUNCTIONS_EXTENSION_VERSION" in env["set"]) == (app["kind"] == "functionapp")


@pytest.mark.parametrize("cls,use_async", FLAVOURS, ids=FLAVOUR_IDS)
def test_system_assigned_token(server: Server, app: dict[str, Any], cls: str, use_async: bool) -> None:
    ident = identity_of(server, app["id"])
    assert ident["principalId"] == app["identity"]["principalId"]

    token = token_from(server, app["id"], snippet(cls, use_async=use_async))

    assert_principal(verify(server, token, VAULT), ident["principalId"], ident["clientId"])


# --- user-assigned --------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def shared(server: Server, group: str) -> dict[str, Any]:
    """One UAMI on a web app (next to its system identity) and on a VM (scenario 3)."""
    ua = uami(server, group, "id-shared")
    site = server.put("site", group, "app-shared", {"kind": "app", "identity": {
        "type": "SystemAssigned,UserAssigned", "userAssignedIdentities": user_assigned(ua)}}, expect=201)
    vm = server.put("vm", group, "vm-shared", {"identity": {
        "type": "UserAssigned", "userAssignedIdentities": user_assigned(ua)}}, expect=201)
    return {"uami": ua, "site": site, "vm": vm}


def test_shared_user_assigned_identity_is_one_principal(server: Server, shared: dict[str, Any]) -> None:
    props = shared["uami"]["properties"]
    select = f"client_id={props['clientId']!r}"
    from_app = verify(server, token_from(server, shared["site"]["id"], snippet(kwargs=select)))
    from_vm = verify(server, token_from(server, shared["vm"]["id"], snippet(kwargs=select)))
    # the VM has only this one UAMI: it also answers without a selector
    from_vm_default = verify(server, token_from(server, shared["vm"]["id"], snippet()))

    assert from_app["oid"] == from_vm["oid"] == from_vm_default["oid"] == props["principalId"]
    assert from_app["appid"] == from_vm["appid"] == props["clientId"]


@pytest.mark.parametrize("use_async", [False, True], ids=["sync", "async"])
def test_selectors_on_an_app_with_both_kinds(server: Server, shared: dict[str, Any], use_async: bool) -> None:
    site_id, ua = shared["site"]["id"], shared["uami"]
    system = identity_of(server, site_id)
    props = ua["properties"]

    default = verify(server, token_from(server, site_id, snippet(use_async=use_async)))
    by_client = verify(server, token_from(server, site_id, snippet(
        kwargs=f"client_id={props['clientId']!r}", use_async=use_async)))
    by_resource = verify(server, token_from(server, site_id, snippet(
        kwargs=f"identity_config={{'resource_id': {ua['id']!r}}}", use_async=use_async)))
    by_object = verify(server, token_from(server, site_id, snippet(
        kwargs=f"identity_config={{'object_id': {props['principalId']!r}}}", use_async=use_async)))

    assert_principal(default, system["principalId"], system["clientId"])
    assert_principal(by_client, props["principalId"], props["clientId"])
    assert_principal(by_resource, props["principalId"], props["clientId"])
    assert_principal(by_object, props["principalId"], props["clientId"])


@pytest.mark.parametrize("use_async,error", [(False, "CredentialUnavailableError"),
                                             (True, "ClientAuthenticationError")], ids=["sync", "async"])
def test_unknown_client_id_fails_fast(server: Server, shared: dict[str, Any], use_async: bool, error: str) -> None:
    started = time.monotonic()
    name, message = error_from(server, shared["site"]["id"], snippet(
        kwargs="client_id='00000000-1111-2222-3333-444444444444'", use_async=use_async))
    assert name == error
    assert "Unable to load the proper Managed Identity" in message
    assert time.monotonic() - started < 15, "the SDK retried (a 404/5xx instead of a 400?)"


# --- the raw wire -----------------------------------------------------------------------------

def test_raw_2019_response(server: Server, app: dict[str, Any]) -> None:
    env = server.environment(app["id"])["set"]
    r = httpx.get(env["IDENTITY_ENDPOINT"], params={"api-version": "2019-08-01", "resource": VAULT},
                  headers={"X-IDENTITY-HEADER": env["IDENTITY_HEADER"]})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["token_type"] == "Bearer" and body["resource"] == VAULT
    assert isinstance(body["expires_on"], str) and body["expires_on"].isdigit()
    claims = verify(server, body["access_token"])
    assert claims["exp"] == int(body["expires_on"])
    assert body["client_id"] == claims["appid"] == identity_of(server, app["id"])["clientId"]


@pytest.mark.parametrize("header", ["wrong", "missing"])
def test_raw_bad_identity_header_is_403(server: Server, app: dict[str, Any], header: str) -> None:
    env = server.environment(app["id"])["set"]
    headers = {"X-IDENTITY-HEADER": env["IDENTITY_HEADER"][:-4] + "abcd"} if header == "wrong" else {}
    r = httpx.get(env["IDENTITY_ENDPOINT"], params={"api-version": "2019-08-01", "resource": VAULT},
                  headers=headers)
    assert r.status_code == 403
    assert "access_token" not in r.text


def test_raw_legacy_msi_endpoint(server: Server, app: dict[str, Any]) -> None:
    env = server.environment(app["id"])["set"]
    r = httpx.get(env["MSI_ENDPOINT"], params={"api-version": "2017-09-01", "resource": VAULT},
                  headers={"secret": env["MSI_SECRET"]})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["token_type"] == "Bearer" and body["resource"] == VAULT
    # a date string, as on Linux App Service: 06/20/2019 02:57:58 +00:00
    expires = dt.datetime.strptime(body["expires_on"], "%m/%d/%Y %H:%M:%S %z")
    claims = verify(server, body["access_token"])
    assert int(expires.timestamp()) == claims["exp"]


# --- no identity ------------------------------------------------------------------------------

def test_app_without_identity_has_no_identity_endpoint(server: Server, group: str) -> None:
    site = server.put("site", group, "app-plain", {"kind": "app"}, expect=201)
    env = server.environment(site["id"])
    assert "IDENTITY_ENDPOINT" not in env["set"] and "IDENTITY_ENDPOINT" in env["unset"]
    assert "IDENTITY_HEADER" in env["unset"] and "MSI_ENDPOINT" in env["unset"]


def test_removing_the_identity_revokes_the_endpoint(server: Server, group: str) -> None:
    site = server.put("site", group, "app-removed", {"kind": "app", "identity": {"type": "SystemAssigned"}},
                      expect=201)
    env = server.environment(site["id"])["set"]
    params = {"api-version": "2019-08-01", "resource": VAULT}
    headers = {"X-IDENTITY-HEADER": env["IDENTITY_HEADER"]}
    assert httpx.get(env["IDENTITY_ENDPOINT"], params=params, headers=headers).status_code == 200

    r = server.patch("site", group, "app-removed", {"identity": {"type": "None"}})
    assert r.status_code == 200, r.text

    assert "IDENTITY_ENDPOINT" in server.environment(site["id"])["unset"]
    stale = httpx.get(env["IDENTITY_ENDPOINT"], params=params, headers=headers)
    assert stale.status_code in (400, 403), stale.text
    assert "access_token" not in stale.text
