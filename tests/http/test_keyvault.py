"""Key Vault's secrets data plane, in-process with a fixed clock (azure-wire.md §6, sdk-compat §5).

Each vault is its own origin, so every test talks to `TestClient(keyvault app, base_url=vaultUri)`.
Covers: the 401 challenge on the SDK's bodiless first request, the whole secrets REST surface
(set / get / update / list + paging / versions / soft delete / recover / purge / backup / restore),
validation errors, RBAC data actions at vault and secret scope, access policies, and the token
checks that need a clock or azmi's own key (lifetime with 5 min skew, issuer).
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from typing import Any

import httpx
import jwt
import pytest
from starlette.testclient import TestClient

from azmi.tokens.claims import AZURE_CLI_APP_ID
from azmi.tokens.jwt_codec import sign
from tests.conftest import Wire
from tests.http.helpers import VAULT, arm, group_path, imds_token, new_group, unique, with_system

NOW = 1_800_000_000
VAULT_API = "2023-07-01"
AUTHZ_API = "2022-04-01"
SECRETS_USER = "4633458b-17de-408a-b874-0445c86b69e6"
SECRETS_OFFICER = "b86a8fe4-44ce-4948-aee5-eccb2c155cd7"
API = "7.5"
NOT_FOUND = ("A secret with (name/id) {} was not found in this key vault. If you recently deleted this secret you "
             "may be able to recover it using the correct recovery command. For help resolving this issue, please "
             "see https://go.microsoft.com/fwlink/?linkid=2125182")
SDK_VERSIONS = ("2026-04-01", "2025-07-01", "7.6", "7.5", "7.4", "7.3", "7.2", "7.1", "7.0", "2016-10-01")


@dataclass
class Kv:
    wire: Wire
    id: str
    name: str
    uri: str
    client: TestClient
    token: str  # the operator's vault token

    def call(self, method: str, path: str, *, token: str | None = "", api: str | None = API, body: Any = None,
             params: dict[str, str] | None = None, content: bytes | None = None) -> httpx.Response:
        token = self.token if token == "" else token
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        query = {**({"api-version": api} if api else {}), **(params or {})}
        if content is not None:
            return self.client.request(method, path, params=query, content=content,
                                       headers={**headers, "Content-Type": "application/json"})
        return self.client.request(method, path, params=query, json=body, headers=headers)


def vault_token(wire: Wire) -> str:
    op = wire.azmi.services.operator
    return op.token(AZURE_CLI_APP_ID, op.secret, VAULT)[0]


def make_vault(wire: Wire, *, rbac: bool = True, policies: list[dict[str, Any]] | None = None) -> Kv:
    group = new_group(wire)
    name = unique("kv")
    props: dict[str, Any] = {"enableRbacAuthorization": rbac}
    if policies is not None:
        props["accessPolicies"] = policies
    r = arm(wire, "PUT", f"{group_path(wire, group)}/providers/Microsoft.KeyVault/vaults/{name}", VAULT_API,
            {"location": "eastus", "properties": props})
    assert r.status_code == 201, r.text
    uri = r.json()["properties"]["vaultUri"]
    assert re.fullmatch(r"https://127\.0\.0\.1:\d+/", uri), uri
    return Kv(wire, r.json()["id"], name, uri, TestClient(wire.azmi.apps["keyvault"], base_url=uri),
              vault_token(wire))


def assign(wire: Wire, scope: str, role: str, principal: str) -> httpx.Response:
    r = arm(wire, "PUT", f"{scope}/providers/Microsoft.Authorization/roleAssignments/{uuid.uuid4()}", AUTHZ_API,
            {"properties": {"roleDefinitionId": f"/subscriptions/{wire.sub}/providers/Microsoft.Authorization/"
                                                f"roleDefinitions/{role}", "principalId": principal,
                            "principalType": "ServicePrincipal"}})
    assert r.status_code == 201, r.text
    return r


def operator_oid(wire: Wire) -> str:
    return str(wire.azmi.services.operator.principal.object_id)


@pytest.fixture
def kv(wire: Wire) -> Kv:
    """An RBAC vault where the operator holds Key Vault Secrets Officer."""
    v = make_vault(wire)
    assign(wire, v.id, SECRETS_OFFICER, operator_oid(wire))
    return v


def workload(wire: Wire, kv: Kv) -> tuple[str, str]:
    """A VM with a system identity in a new group: (principal id, its vault token)."""
    vm = with_system(wire, "vm", new_group(wire))
    r = imds_token(wire, vm["id"], resource=VAULT)
    assert r.status_code == 200, r.text
    return vm["identity"]["principalId"], r.json()["access_token"]


def error(r: httpx.Response, status: int, code: str, inner: str | None = None) -> str:
    assert r.status_code == status, r.text
    body = r.json()
    assert set(body) == {"error"}
    assert body["error"]["code"] == code, body
    if inner is None:
        assert "innererror" not in body["error"], body
    else:
        assert body["error"]["innererror"] == {"code": inner}, body
    return str(body["error"]["message"])


# -- authentication -------------------------------------------------------------------------------
def test_bodiless_first_request_gets_the_challenge(wire: Wire, kv: Kv) -> None:
    tenant = wire.settings.tenant_id
    for method, path, api in (("PUT", "/secrets/s1", API), ("GET", "/secrets/s1/", API), ("GET", "/secrets", None),
                              ("DELETE", "/nonsense/path", "bogus")):
        r = kv.call(method, path, token=None, api=api)
        assert r.status_code == 401, (method, path, r.text)
        assert r.headers["WWW-Authenticate"] == (f'Bearer authorization="https://login.test/{tenant}", '
                                                 'resource="https://vault.azure.net"')
        assert r.json() == {"error": {"code": "Unauthorized",
                                      "message": "AKV10000: Request is missing a Bearer or PoP token."}}
        assert r.headers["content-type"] == "application/json; charset=utf-8"
        assert r.headers["x-ms-keyvault-region"] == "eastus"
        uuid.UUID(r.headers["x-ms-request-id"])


def test_lifetime_with_five_minutes_skew_and_issuer(wire: Wire, kv: Kv) -> None:
    oid, token = workload(wire, kv)
    assign(wire, kv.id, SECRETS_OFFICER, oid)
    assert kv.call("PUT", "/secrets/s1", token=token, body={"value": "v"}).status_code == 200
    exp = jwt.decode(token, options={"verify_signature": False})["exp"]

    wire.clock.t = exp + 299  # within the 5-minute tolerance
    assert kv.call("GET", "/secrets/s1/", token=token).status_code == 200
    wire.clock.t = exp + 300
    r = kv.call("GET", "/secrets/s1/", token=token)
    assert "expired" in error(r, 401, "Unauthorized")
    assert 'error="invalid_token"' in r.headers["WWW-Authenticate"]

    wire.clock.t = NOW
    _, fresh = workload(wire, kv)
    nbf = jwt.decode(fresh, options={"verify_signature": False})["nbf"]
    wire.clock.t = nbf - 301
    assert "not valid yet" in error(kv.call("GET", "/secrets/s1/", token=fresh), 401, "Unauthorized")
    wire.clock.t = nbf - 300
    assert error(kv.call("GET", "/secrets/s1/", token=fresh), 403, "Forbidden", "ForbiddenByRbac")  # authenticated
    wire.clock.t = NOW

    # Signed with azmi's own key, yet issued for another tenant: the issuer check stops it.
    key = wire.azmi.services.keyring.active
    claims = jwt.decode(token, options={"verify_signature": False})  # the Secrets Officer's claims
    other = str(uuid.uuid4())
    forged = sign({**claims, "iss": f"https://sts.windows.net/{other}/", "tid": other}, key)
    message = error(kv.call("GET", "/secrets/s1/", token=forged), 401, "Unauthorized")
    assert message.startswith("AKV10032: Invalid issuer.") and other in message
    wrong_aud = sign({**claims, "aud": "https://storage.azure.com"}, key)
    message = error(kv.call("GET", "/secrets/s1/", token=wrong_aud), 401, "Unauthorized")
    assert message.startswith("AKV10022: Invalid audience.") and "found: https://storage.azure.com" in message
    # The first-party app id of Key Vault is an accepted audience too.
    app_aud = sign({**claims, "aud": "cfa8b339-82a2-471a-a3c9-0fc0be7a4093"}, key)
    assert kv.call("GET", "/secrets/s1/", token=app_aud).status_code == 200


# -- the secrets surface --------------------------------------------------------------------------
def test_set_get_update_versions(wire: Wire, kv: Kv) -> None:
    r = kv.call("PUT", "/secrets/db-pass", body={"value": "one", "contentType": "text/plain", "tags": {"a": "b"},
                                                 "attributes": {"exp": NOW + 86400}})
    assert r.status_code == 200, r.text
    first = r.json()
    v1 = first["id"].rsplit("/", 1)[1]
    assert re.fullmatch(r"[0-9a-f]{32}", v1)
    assert first == {"value": "one", "id": f"{kv.uri}secrets/db-pass/{v1}", "contentType": "text/plain",
                     "tags": {"a": "b"},
                     "attributes": {"enabled": True, "exp": NOW + 86400, "created": NOW, "updated": NOW,
                                    "recoveryLevel": "Recoverable+Purgeable", "recoverableDays": 90}}

    for path in ("/secrets/db-pass/", "/secrets/db-pass", f"/secrets/db-pass/{v1}", "/secrets/DB-PASS/"):
        got = kv.call("GET", path)
        assert got.status_code == 200, (path, got.text)
        assert got.json() == first

    wire.clock.advance(60)
    second = kv.call("PUT", "/secrets/db-pass", body={"value": "two"}).json()
    v2 = second["id"].rsplit("/", 1)[1]
    assert v2 != v1 and second["value"] == "two" and second["tags"] == {} and "contentType" not in second
    assert second["attributes"]["created"] == NOW + 60
    assert kv.call("GET", "/secrets/db-pass/").json()["value"] == "two"
    assert kv.call("GET", f"/secrets/db-pass/{v1}").json()["value"] == "one"

    wire.clock.advance(60)
    upd = kv.call("PATCH", f"/secrets/db-pass/{v1}", body={"contentType": "application/x-pem", "tags": {"k": "v"},
                                                           "attributes": {"enabled": False}})
    assert upd.status_code == 200, upd.text
    body = upd.json()
    assert "value" not in body
    assert body["id"] == f"{kv.uri}secrets/db-pass/{v1}"
    assert body["contentType"] == "application/x-pem" and body["tags"] == {"k": "v"}
    assert body["attributes"]["enabled"] is False
    assert (body["attributes"]["created"], body["attributes"]["updated"]) == (NOW, NOW + 120)
    message = error(kv.call("GET", f"/secrets/db-pass/{v1}"), 403, "Forbidden", "SecretDisabled")
    assert message == "Operation get is not allowed on a disabled secret."
    assert kv.call("GET", f"/secrets/db-pass/{v2}").json()["value"] == "two"  # only that version is disabled

    versions = kv.call("GET", "/secrets/db-pass/versions")
    assert versions.status_code == 200, versions.text
    items = versions.json()["value"]
    assert sorted(i["id"] for i in items) == sorted([f"{kv.uri}secrets/db-pass/{v1}", f"{kv.uri}secrets/db-pass/{v2}"])
    assert all("value" not in i for i in items)
    assert versions.json()["nextLink"] is None


def test_list_pages_with_absolute_next_links(wire: Wire, kv: Kv) -> None:
    names = ["alpha", "bravo", "charlie"]
    for n in names:
        assert kv.call("PUT", f"/secrets/{n}", body={"value": n}).status_code == 200
    kv.call("PUT", "/secrets/bravo", body={"value": "again"})

    seen: list[dict[str, Any]] = []
    r = kv.call("GET", "/secrets", params={"maxresults": "1"})
    pages = 0
    while True:
        assert r.status_code == 200, r.text
        page = r.json()
        assert set(page) == {"value", "nextLink"}
        assert len(page["value"]) <= 1
        seen += page["value"]
        pages += 1
        if page["nextLink"] is None:
            break
        link = page["nextLink"]
        assert link.startswith(f"{kv.uri}secrets?"), link
        assert "api-version=7.5" in link and "maxresults=1" in link
        r = kv.client.get(link, headers={"Authorization": f"Bearer {kv.token}"})
    assert pages == 3
    assert sorted(i["id"] for i in seen) == [f"{kv.uri}secrets/{n}" for n in names]  # no version in the id
    assert all("value" not in i and i["attributes"]["enabled"] is True for i in seen)

    everything = kv.call("GET", "/secrets").json()
    assert len(everything["value"]) == 3 and everything["nextLink"] is None
    for bad in ("0", "26", "x"):
        error(kv.call("GET", "/secrets", params={"maxresults": bad}), 400, "BadParameter")


def test_soft_delete_recover_purge(wire: Wire, kv: Kv) -> None:
    kv.call("PUT", "/secrets/s1", body={"value": "keep-me"})
    wire.clock.advance(10)
    deleted = kv.call("DELETE", "/secrets/s1")
    assert deleted.status_code == 200, deleted.text
    body = deleted.json()
    assert "value" not in body
    assert body["recoveryId"] == f"{kv.uri}deletedsecrets/s1"
    assert body["deletedDate"] == NOW + 10
    assert body["scheduledPurgeDate"] == NOW + 10 + 90 * 86400
    assert body["id"].startswith(f"{kv.uri}secrets/s1/")

    assert error(kv.call("GET", "/secrets/s1/"), 404, "SecretNotFound") == NOT_FOUND.format("s1")
    assert kv.call("GET", "/secrets").json()["value"] == []
    got = kv.call("GET", "/deletedsecrets/s1")
    assert got.status_code == 200 and got.json()["recoveryId"] == body["recoveryId"]
    listed = kv.call("GET", "/deletedsecrets").json()
    assert [i["recoveryId"] for i in listed["value"]] == [body["recoveryId"]]
    assert listed["value"][0]["id"] == f"{kv.uri}secrets/s1"
    assert listed["value"][0]["scheduledPurgeDate"] == body["scheduledPurgeDate"]

    error(kv.call("PUT", "/secrets/s1", body={"value": "new"}), 409, "Conflict", "ObjectIsDeletedButRecoverable")
    error(kv.call("DELETE", "/secrets/s1"), 404, "SecretNotFound")

    recovered = kv.call("POST", "/deletedsecrets/s1/recover")
    assert recovered.status_code == 200, recovered.text
    assert "recoveryId" not in recovered.json() and recovered.json()["id"] == body["id"]
    assert kv.call("GET", "/secrets/s1/").json()["value"] == "keep-me"
    error(kv.call("GET", "/deletedsecrets/s1"), 404, "SecretNotFound")

    kv.call("DELETE", "/secrets/s1")
    purged = kv.call("DELETE", "/deletedsecrets/s1")
    assert purged.status_code == 204 and purged.content == b""
    error(kv.call("GET", "/deletedsecrets/s1"), 404, "SecretNotFound")
    error(kv.call("DELETE", "/deletedsecrets/s1"), 404, "SecretNotFound")
    again = kv.call("PUT", "/secrets/s1", body={"value": "fresh"})
    assert again.status_code == 200 and again.json()["value"] == "fresh"
    assert len(kv.call("GET", "/secrets/s1/versions").json()["value"]) == 1


def test_backup_and_restore(wire: Wire, kv: Kv) -> None:
    first = kv.call("PUT", "/secrets/cert-pass", body={"value": "v1", "tags": {"t": "1"}}).json()
    second = kv.call("PUT", "/secrets/cert-pass", body={"value": "v2"}).json()
    r = kv.call("POST", "/secrets/cert-pass/backup")
    assert r.status_code == 200, r.text
    assert set(r.json()) == {"value"}
    blob = r.json()["value"]
    assert re.fullmatch(r"[A-Za-z0-9_-]+", blob)

    error(kv.call("POST", "/secrets/restore", body={"value": blob}), 409, "Conflict")
    kv.call("DELETE", "/secrets/cert-pass")
    assert kv.call("DELETE", "/deletedsecrets/cert-pass").status_code == 204

    restored = kv.call("POST", "/secrets/restore", body={"value": blob})
    assert restored.status_code == 200, restored.text
    assert restored.json()["id"] == second["id"] and "value" not in restored.json()
    assert kv.call("GET", "/secrets/cert-pass/").json()["value"] == "v2"
    assert kv.call("GET", first["id"].replace(kv.uri.rstrip("/"), "")).json()["value"] == "v1"
    error(kv.call("POST", "/secrets/restore", body={"value": "bm90IGEgYmFja3Vw"}), 400, "BadParameter")
    error(kv.call("POST", "/secrets/restore", body={}), 400, "BadParameter")


def test_api_version_is_required_and_checked(kv: Kv) -> None:
    kv.call("PUT", "/secrets/s1", body={"value": "x"})
    assert "api-version" in error(kv.call("GET", "/secrets/s1/", api=None), 400, "BadParameter")
    assert "1999-01-01" in error(kv.call("GET", "/secrets/s1/", api="1999-01-01"), 400, "BadParameter")
    for version in SDK_VERSIONS:
        assert kv.call("GET", "/secrets/s1/", api=version).status_code == 200, version


def test_invalid_input(kv: Kv) -> None:
    for name in ("bad_name", "dots.not.allowed", "x" * 128):
        message = error(kv.call("PUT", f"/secrets/{name}", body={"value": "x"}), 400, "BadParameter")
        assert name in message
        error(kv.call("GET", f"/secrets/{name}/"), 400, "BadParameter")
    assert kv.call("PUT", f"/secrets/{'x' * 127}", body={"value": "x"}).status_code == 200
    kv.call("PUT", "/secrets/ok", body={"value": "x"})
    error(kv.call("GET", "/secrets/ok/not-a-version"), 400, "BadParameter")
    assert error(kv.call("GET", f"/secrets/ok/{'0' * 32}"), 404, "SecretNotFound") == NOT_FOUND.format("ok")
    assert error(kv.call("GET", "/secrets/missing/"), 404, "SecretNotFound") == NOT_FOUND.format("missing")
    error(kv.call("PUT", "/secrets/ok", body={"contentType": "no value"}), 400, "BadParameter")
    error(kv.call("PUT", "/secrets/ok", body={"value": 5}), 400, "BadParameter")
    error(kv.call("PUT", "/secrets/ok", content=b"{not json"), 400, "BadParameter")
    error(kv.call("PUT", "/secrets/ok", body={"value": "x", "attributes": {"enabled": "yes"}}), 400, "BadParameter")
    error(kv.call("PUT", "/secrets/ok", body={"value": "x", "tags": {str(i): "v" for i in range(16)}}), 400,
          "BadParameter")
    assert kv.call("GET", "/keys").status_code == 404
    assert len(kv.call("GET", "/secrets/ok/versions").json()["value"]) == 1  # no failed write left a version


# -- authorization --------------------------------------------------------------------------------
def test_owner_has_no_data_access_and_denials_change_nothing(wire: Wire) -> None:
    v = make_vault(wire)  # the operator is Owner on the subscription, `*` in actions
    message = error(v.call("PUT", "/secrets/s1", body={"value": "x"}), 403, "Forbidden", "ForbiddenByRbac")
    oid = operator_oid(wire)
    assert message.startswith(
        "Caller is not authorized to perform action on resource.\r\nIf role assignments, deny assignments or role "
        "definitions were changed recently, please observe propagation time.\r\n"
        f"Caller: appid={AZURE_CLI_APP_ID};oid={oid};iss=https://sts.windows.net/{wire.settings.tenant_id}/\r\n"
        "Action: 'Microsoft.KeyVault/vaults/secrets/setSecret/action'\r\n"
        f"Resource: '{v.id.lower()}/secrets/s1'\r\nAssignment: (not found)\r\nDenyAssignmentId: null\r\n"
        f"DecisionReason: 'DeniedWithNoValidRBAC' \r\nVault: {v.name};location=eastus\r\n")
    assert "/resourcegroups/" in message and "/microsoft.keyvault/" in message
    # Authorization comes before the body: an unauthorized, malformed request is 403, not 400.
    error(v.call("PUT", "/secrets/s1", content=b"{broken"), 403, "Forbidden", "ForbiddenByRbac")
    error(v.call("GET", "/secrets"), 403, "Forbidden", "ForbiddenByRbac")
    assign(wire, v.id, SECRETS_OFFICER, oid)
    assert v.call("GET", "/secrets").json()["value"] == []  # nothing was written by the denied calls


def test_secret_scope_assignment(wire: Wire, kv: Kv) -> None:
    for n in ("s1", "s2"):
        kv.call("PUT", f"/secrets/{n}", body={"value": n})
    oid, token = workload(wire, kv)
    assign(wire, f"{kv.id}/secrets/s1", SECRETS_USER, oid)
    assert kv.call("GET", "/secrets/s1/", token=token).json()["value"] == "s1"
    assert kv.call("GET", "/secrets/S1/", token=token).status_code == 200
    message = error(kv.call("GET", "/secrets/s2/", token=token), 403, "Forbidden", "ForbiddenByRbac")
    assert "Action: 'Microsoft.KeyVault/vaults/secrets/getSecret/action'" in message
    assert f"Resource: '{kv.id.lower()}/secrets/s2'" in message and f"oid={oid};" in message
    error(kv.call("GET", "/secrets", token=token), 403, "Forbidden", "ForbiddenByRbac")  # list is vault-scoped
    message = error(kv.call("PUT", "/secrets/s1", token=token, body={"value": "x"}), 403, "Forbidden",
                    "ForbiddenByRbac")
    assert "setSecret/action" in message

    assign(wire, kv.id, SECRETS_USER, oid)  # at the vault: every secret, and listing
    assert kv.call("GET", "/secrets/s2/", token=token).json()["value"] == "s2"
    assert len(kv.call("GET", "/secrets", token=token).json()["value"]) == 2
    group_scoped_oid, group_token = workload(wire, kv)
    assign(wire, "/".join(kv.id.split("/")[:5]), SECRETS_USER, group_scoped_oid)  # inherited from the group
    assert kv.call("GET", "/secrets/s2/", token=group_token).status_code == 200


def test_not_actions_are_not_deny(wire: Wire, kv: Kv) -> None:
    kv.call("PUT", "/secrets/s1", body={"value": "v"})
    role = str(uuid.uuid4())
    r = arm(wire, "PUT", f"/subscriptions/{wire.sub}/providers/Microsoft.Authorization/roleDefinitions/{role}",
            AUTHZ_API, {"properties": {"roleName": unique("secrets-but-get"), "assignableScopes":
                                       [f"/subscriptions/{wire.sub}"], "permissions": [{
                                           "actions": [], "dataActions": ["Microsoft.KeyVault/vaults/secrets/*"],
                                           "notDataActions": ["microsoft.keyvault/vaults/secrets/GETSECRET/action"]}]}})
    assert r.status_code == 201, r.text
    oid, token = workload(wire, kv)
    assign(wire, kv.id, role, oid)
    assert kv.call("GET", "/secrets", token=token).status_code == 200  # readMetadata: granted
    error(kv.call("GET", "/secrets/s1/", token=token), 403, "Forbidden", "ForbiddenByRbac")  # excluded
    assign(wire, kv.id, SECRETS_USER, oid)  # another role grants it: notDataActions did not deny
    assert kv.call("GET", "/secrets/s1/", token=token).json()["value"] == "v"


def test_access_policies(wire: Wire) -> None:
    tenant = wire.settings.tenant_id
    v = make_vault(wire, rbac=False, policies=[{"tenantId": tenant, "objectId": operator_oid(wire),
                                                "permissions": {"secrets": ["all"]}}])
    for method, path, body in (("PUT", "/secrets/s1", {"value": "v"}), ("GET", "/secrets/s1/", None),
                               ("GET", "/secrets", None), ("POST", "/secrets/s1/backup", None),
                               ("DELETE", "/secrets/s1", None), ("GET", "/deletedsecrets/s1", None),
                               ("POST", "/deletedsecrets/s1/recover", None)):
        assert v.call(method, path, body=body).status_code == 200, (method, path)

    oid, token = workload(wire, v)
    message = error(v.call("GET", "/secrets/s1/", token=token), 403, "Forbidden", "AccessDenied")
    assert message == (f"The user, group or application 'appid={jwt.decode(token, options={'verify_signature': False})['appid']};"
                       f"oid={oid};iss=https://sts.windows.net/{tenant}/' does not have secrets get permission on key "
                       f"vault '{v.name};location=eastus'. For help resolving this issue, please see "
                       "https://go.microsoft.com/fwlink/?linkid=2125287")
    r = arm(wire, "PUT", f"{v.id}/accessPolicies/add", VAULT_API, {"properties": {"accessPolicies": [
        {"tenantId": tenant, "objectId": oid, "permissions": {"secrets": ["Get"]}}]}})
    assert r.status_code == 200, r.text
    assert v.call("GET", "/secrets/s1/", token=token).json()["value"] == "v"  # policies apply at once
    message = error(v.call("GET", "/secrets", token=token), 403, "Forbidden", "AccessDenied")
    assert "does not have secrets list permission" in message
    # A data role means nothing in an access-policy vault, and the operator's Owner role neither.
    assign(wire, v.id, SECRETS_OFFICER, oid)
    error(v.call("PUT", "/secrets/s1", token=token, body={"value": "x"}), 403, "Forbidden", "AccessDenied")
    assert v.call("GET", "/secrets/s1/versions").json()["value"].__len__() == 1
