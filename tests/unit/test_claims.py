"""tokens.claims: the v1 managed-identity claim set (azure-wire.md §3.2), stable for a fixed clock."""

from __future__ import annotations

import pytest

from azmi.domain.models import SYSTEM, USER, Principal
from azmi.tokens.claims import AZURE_CLI_APP_ID, is_first_party, issuer, managed_identity_claims, operator_claims

TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
VM_ID = ("/subscriptions/00000000-0000-0000-0000-00000000a2a1/resourcegroups/rg/providers/"
         "Microsoft.Compute/virtualMachines/vm1")
SAMI = Principal("f84600c5-a9d8-4129-a199-cc4180607411", "f0b1f84a-ec74-4cef-8034-adbad168ce33", "vm1", SYSTEM,
                 VM_ID)
T0 = 1_800_000_000


def mi(audience: str, principal: Principal = SAMI, uti: str = "abcdefghijklmnopqrstuv") -> dict[str, object]:
    return managed_identity_claims(tenant_id=TENANT, principal=principal, audience=audience, issued_at=T0,
                                   lifetime=3600, uti=uti)


def test_exact_claim_set_and_values() -> None:
    c = mi("https://management.azure.com/")
    assert set(c) == {"aud", "iss", "iat", "nbf", "exp", "aio", "appid", "appidacr", "idp", "idtyp", "oid", "rh",
                      "sub", "tid", "uti", "ver", "xms_mirid"}
    assert c["aud"] == "https://management.azure.com/"
    assert c["iss"] == c["idp"] == f"https://sts.windows.net/{TENANT}/"
    assert (c["iat"], c["nbf"], c["exp"]) == (T0, T0, T0 + 3600)
    assert c["appid"] == SAMI.client_id
    assert c["appidacr"] == "2"
    assert c["oid"] == c["sub"] == SAMI.object_id
    assert c["tid"] == TENANT
    assert c["uti"] == "abcdefghijklmnopqrstuv"
    assert c["ver"] == "1.0"
    assert c["idtyp"] == "app"
    assert c["xms_mirid"] == VM_ID
    assert isinstance(c["aio"], str) and isinstance(c["rh"], str) and c["aio"] != c["rh"]


def test_claims_are_stable_for_the_same_inputs() -> None:
    assert mi("https://vault.azure.net") == mi("https://vault.azure.net")
    assert mi("https://vault.azure.net")["aio"] != mi("https://vault.azure.net", uti="zzzzzzzzzzzzzzzzzzzzzz")["aio"]


def test_audience_is_kept_exactly() -> None:
    assert mi("https://vault.azure.net/")["aud"] == "https://vault.azure.net/"
    assert mi("https://vault.azure.net")["aud"] == "https://vault.azure.net"


@pytest.mark.parametrize("audience", ["https://management.azure.com/", "https://vault.azure.net",
                                      "https://storage.azure.com/", "https://database.windows.net/",
                                      "https://management.core.windows.net/", "https://graph.microsoft.com",
                                      "https://ossrdbms-aad.database.windows.net", "https://myvault.vault.azure.net"])
def test_xms_mirid_for_first_party_audiences(audience: str) -> None:
    assert is_first_party(audience)
    assert mi(audience)["xms_mirid"] == VM_ID


@pytest.mark.parametrize("audience", ["api://my-api", "https://example.com", "https://notazure.com",
                                      "https://azure.com.evil.test", "https://evil.test/?h=.azure.com",
                                      "cfa8b339-82a2-471a-a3c9-0fc0be7a4093", "https://evilazure.net"])
def test_no_xms_mirid_for_other_audiences(audience: str) -> None:
    assert not is_first_party(audience)
    assert "xms_mirid" not in mi(audience)


def test_uami_xms_mirid_is_the_uami() -> None:
    uami_id = ("/subscriptions/00000000-0000-0000-0000-00000000a2a1/resourcegroups/rg/providers/"
               "Microsoft.ManagedIdentity/userAssignedIdentities/id1")
    p = Principal("11111111-0000-4000-8000-000000000001", "22222222-0000-4000-8000-000000000002", "id1", USER, uami_id)
    assert mi("https://vault.azure.net", p)["xms_mirid"] == uami_id


def test_principal_without_resource_has_no_xms_mirid() -> None:
    p = Principal("11111111-0000-4000-8000-000000000001", "22222222-0000-4000-8000-000000000002", "x", USER, None)
    assert "xms_mirid" not in mi("https://vault.azure.net", p)


def test_issuer_has_a_trailing_slash() -> None:
    assert issuer(TENANT) == f"https://sts.windows.net/{TENANT}/"


def test_operator_claims_are_a_delegated_cli_token() -> None:
    op = Principal("33333333-0000-4000-8000-000000000003", "44444444-0000-4000-8000-000000000004", "azmi operator",
                   "User", None)
    c = operator_claims(tenant_id=TENANT, principal=op, audience="https://management.azure.com/", issued_at=T0,
                        lifetime=3600, uti="u" * 22, upn="operator@azmi.local")
    assert c["appid"] == AZURE_CLI_APP_ID
    assert c["appidacr"] == "0"
    assert c["idtyp"] == "user"
    assert c["scp"] == "user_impersonation"
    assert c["oid"] == op.object_id and c["sub"] != op.object_id
    assert c["upn"] == c["unique_name"] == "operator@azmi.local"
    assert "xms_mirid" not in c
