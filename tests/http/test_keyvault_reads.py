"""Key Vault's hot read, in-process: a GET of a secret answered from memory (the verified token and the
authorization decision kept) must follow every grant, revoke and the RBAC propagation delay at once."""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

import pytest

from tests.conftest import Wire
from tests.http.helpers import arm, build_wire
from tests.http.test_keyvault import (AUTHZ_API, SECRETS_OFFICER, SECRETS_USER, Kv, assign, error, make_vault,
                                      operator_oid, workload)


@pytest.fixture
def kv(wire: Wire) -> Kv:
    v = make_vault(wire)
    assign(wire, v.id, SECRETS_OFFICER, operator_oid(wire))
    return v


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
