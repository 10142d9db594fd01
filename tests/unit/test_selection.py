"""domain.selection.choose: which identity a token request gets (azure-wire.md §1.2)."""

from __future__ import annotations

import pytest

from azmi.domain.models import SYSTEM, USER, AttachedIdentity, Principal
from azmi.domain.selection import Selector, choose
from azmi.errors import AmbiguousIdentity, IdentityNotFound
from azmi.ids import parse_resource_id

SUB = "00000000-0000-0000-0000-00000000a2a1"


def principal(n: int, kind: str = USER) -> Principal:
    return Principal(f"{n:08d}-0000-4000-8000-00000000000a", f"{n:08d}-0000-4000-8000-00000000000c",
                     f"p{n}", kind, None)


def uami(n: int) -> AttachedIdentity:
    rid = parse_resource_id(f"/subscriptions/{SUB}/resourceGroups/RG/providers/"
                            f"Microsoft.ManagedIdentity/userAssignedIdentities/id{n}")
    return AttachedIdentity(rid, principal(n))


SYS = principal(99, SYSTEM)
U1, U2 = uami(1), uami(2)


# -- no selector ----------------------------------------------------------------------------------
def test_system_only_gives_system() -> None:
    assert choose(SYS, [], Selector()) == SYS


def test_both_kinds_give_system_by_default() -> None:
    assert choose(SYS, [U1, U2], Selector()) == SYS


def test_exactly_one_user_assigned_gives_it() -> None:
    assert choose(None, [U1], Selector()) == U1.principal


def test_two_user_assigned_without_system_are_ambiguous() -> None:
    with pytest.raises(AmbiguousIdentity) as info:
        choose(None, [U1, U2], Selector())
    assert info.value.message == ("Multiple user assigned identities exist, please specify the clientId / "
                                  "resourceId of the identity in the token request")


def test_no_identity_at_all_is_not_found() -> None:
    with pytest.raises(IdentityNotFound) as info:
        choose(None, [], Selector())
    assert info.value.message == "Identity not found"


def test_empty_strings_are_no_selector() -> None:
    assert Selector(client_id="", object_id="", resource_id="").empty
    assert choose(SYS, [U1], Selector(client_id="")) == SYS


# -- selectors --------------------------------------------------------------------------------------
@pytest.mark.parametrize("make", [
    lambda p, a: Selector(client_id=p.client_id),
    lambda p, a: Selector(client_id=p.client_id.upper()),
    lambda p, a: Selector(object_id=p.object_id),
    lambda p, a: Selector(object_id=p.object_id.upper()),
    lambda p, a: Selector(resource_id=str(a.uami_id)),
    lambda p, a: Selector(resource_id=str(a.uami_id).upper()),
    lambda p, a: Selector(resource_id=a.uami_id.lower_rg_form()),
    lambda p, a: Selector(resource_id=str(a.uami_id).lstrip("/") + "/"),
])
def test_selectors_pick_the_user_assigned_case_insensitively(make) -> None:  # type: ignore[no-untyped-def]
    assert choose(SYS, [U1, U2], make(U2.principal, U2)) == U2.principal
    assert choose(None, [U1, U2], make(U1.principal, U1)) == U1.principal


def test_client_id_of_the_system_identity_selects_it() -> None:
    assert choose(SYS, [U1], Selector(client_id=SYS.client_id)) == SYS
    assert choose(SYS, [U1], Selector(object_id=SYS.object_id.upper())) == SYS


@pytest.mark.parametrize("selector", [
    Selector(client_id="11111111-2222-3333-4444-555555555555"),
    Selector(object_id="11111111-2222-3333-4444-555555555555"),
    Selector(resource_id=f"/subscriptions/{SUB}/resourceGroups/RG/providers/"
                         "Microsoft.ManagedIdentity/userAssignedIdentities/id3"),
    Selector(client_id=U1.principal.object_id),  # an object id is not a client id
    Selector(object_id=U1.principal.client_id),
])
def test_selector_matching_nothing_is_not_found(selector: Selector) -> None:
    with pytest.raises(IdentityNotFound):
        choose(SYS, [U1, U2], selector)


def test_resource_id_never_selects_the_system_identity() -> None:
    vm = f"/subscriptions/{SUB}/resourceGroups/RG/providers/Microsoft.Compute/virtualMachines/vm1"
    with pytest.raises(IdentityNotFound):
        choose(SYS, [], Selector(resource_id=vm))


def test_selector_with_no_identities_is_not_found() -> None:
    with pytest.raises(IdentityNotFound):
        choose(None, [], Selector(client_id=U1.principal.client_id))


def test_cache_keys_fold_case() -> None:
    assert Selector(client_id="ABC").cache_key() == Selector(client_id="abc").cache_key()
    assert Selector(resource_id="/A/B/").cache_key() == Selector(resource_id="a/b").cache_key()
    assert Selector(client_id="abc").cache_key() != Selector(object_id="abc").cache_key()
