"""Key Vault's hot read, in-process: a GET of a secret answered from memory (the secret, its rendered body,
the verified token and the authorization decision all kept) must look exactly like the first, uncached
one, and must follow every write, grant, revoke and the RBAC propagation delay at once."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Iterator

import httpx
import pytest

from tests.conftest import Wire
from tests.http.helpers import arm, build_wire
from tests.http.test_keyvault import (AUTHZ_API, SECRETS_OFFICER, SECRETS_USER, Kv, assign, error, make_vault,
                                      operator_oid, workload)

GUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")


@pytest.fixture
def kv(wire: Wire) -> Kv:
    v = make_vault(wire)
    assign(wire, v.id, SECRETS_OFFICER, operator_oid(wire))
    return v


def without_request_id(r: httpx.Response) -> list[tuple[str, str]]:
    return [(k, v) for k, v in r.headers.items() if k != "x-ms-request-id"]


def test_cached_reads_are_byte_identical_with_their_own_request_ids(kv: Kv) -> None:
    assert kv.call("PUT", "/secrets/s1", body={"value": "v\u00e9\"", "contentType": "text/plain",
                                               "tags": {"a": "b"}}).status_code == 200
    first = kv.call("GET", "/secrets/s1")  # read from the store
    again = [kv.call("GET", path) for path in ("/secrets/s1", "/secrets/S1/", "/secrets/s1")]  # from memory
    assert first.status_code == 200, first.text
    assert first.content == json.dumps(first.json()).encode()  # Key Vault's own spacing, ASCII escapes
    for r in again:
        assert r.content == first.content
        assert without_request_id(r) == without_request_id(first)
    assert [k for k, _ in without_request_id(first)] == [
        "content-type", "x-ms-keyvault-service-version", "x-ms-keyvault-region", "x-ms-keyvault-network-info",
        "content-length"]
    ids = [r.headers["x-ms-request-id"] for r in (first, *again)]
    assert len(set(ids)) == len(ids) and all(GUID.fullmatch(i) for i in ids), ids


def test_reads_follow_every_write(wire: Wire, kv: Kv) -> None:
    def read(path: str = "/secrets/s1") -> httpx.Response:
        kv.call("GET", path)  # twice: the second one is served from memory
        return kv.call("GET", path)

    v1 = kv.call("PUT", "/secrets/s1", body={"value": "one"}).json()["id"].rsplit("/", 1)[1]
    assert read().json()["value"] == "one"
    assert read(f"/secrets/s1/{v1}").json()["value"] == "one"
    v2 = kv.call("PUT", "/secrets/s1", body={"value": "two"}).json()["id"].rsplit("/", 1)[1]
    assert read().json()["value"] == "two"
    assert read(f"/secrets/s1/{v1}").json()["value"] == "one"
    assert kv.call("PATCH", f"/secrets/s1/{v2}", body={"contentType": "text/x"}).status_code == 200
    assert read().json()["contentType"] == "text/x"
    assert read(f"/secrets/s1/{v2}").json()["contentType"] == "text/x"
    assert kv.call("PATCH", f"/secrets/s1/{v1}", body={"attributes": {"enabled": False}}).status_code == 200
    error(read(f"/secrets/s1/{v1}"), 403, "Forbidden", "SecretDisabled")
    assert kv.call("DELETE", "/secrets/s1").status_code == 200
    error(read(), 404, "SecretNotFound")
    assert kv.call("POST", "/deletedsecrets/s1/recover").status_code == 200
    assert read().json()["value"] == "two"


def test_grant_and_revoke_apply_to_the_next_read(wire: Wire, kv: Kv) -> None:
    kv.call("PUT", "/secrets/s1", body={"value": "v"})
    oid, token = workload(wire, kv)
    for _ in range(2):
        error(kv.call("GET", "/secrets/s1", token=token), 403, "Forbidden", "ForbiddenByRbac")
    grant = assign(wire, kv.id, SECRETS_USER, oid).json()
    for _ in range(2):
        assert kv.call("GET", "/secrets/s1", token=token).json()["value"] == "v"
    assert arm(wire, "DELETE", grant["id"], AUTHZ_API).status_code == 200
    error(kv.call("GET", "/secrets/s1", token=token), 403, "Forbidden", "ForbiddenByRbac")


@pytest.fixture
def delayed(tmp_path: Path) -> Iterator[Wire]:
    yield from build_wire(tmp_path, rbac_propagation_delay=60)


def test_propagation_delay_holds_for_remembered_decisions(delayed: Wire) -> None:
    wire = delayed
    kv = make_vault(wire)
    assign(wire, kv.id, SECRETS_OFFICER, operator_oid(wire))
    wire.clock.advance(60)
    kv.call("PUT", "/secrets/s1", body={"value": "v"})
    oid, token = workload(wire, kv)
    grant = assign(wire, kv.id, SECRETS_USER, oid).json()
    for _ in range(2):
        error(kv.call("GET", "/secrets/s1", token=token), 403, "Forbidden", "ForbiddenByRbac")
    wire.clock.advance(59)
    error(kv.call("GET", "/secrets/s1", token=token), 403, "Forbidden", "ForbiddenByRbac")
    wire.clock.advance(1)  # the grant takes effect now, though "denied" was decided before
    assert kv.call("GET", "/secrets/s1", token=token).json()["value"] == "v"
    assert arm(wire, "DELETE", grant["id"], AUTHZ_API).status_code == 200
    for _ in range(2):  # revoked, but still in force for the delay
        assert kv.call("GET", "/secrets/s1", token=token).status_code == 200
    wire.clock.advance(60)
    error(kv.call("GET", "/secrets/s1", token=token), 403, "Forbidden", "ForbiddenByRbac")
