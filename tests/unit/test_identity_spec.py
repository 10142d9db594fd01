"""domain.identity_spec: the ARM `identity` block, parsed into a change, and the per-resource limit."""

from __future__ import annotations

from typing import Any

import pytest

from azmi.domain.identity_spec import IdentityChange, next_user_assigned, parse_identity
from azmi.errors import InvalidInput, LimitExceeded
from azmi.ids import parse_resource_id

SUB = "00000000-0000-0000-0000-00000000a2a1"


def uami_id(n: int, rg: str = "rg") -> str:
    return f"/subscriptions/{SUB}/resourceGroups/{rg}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id{n}"


A, B, C = uami_id(1), uami_id(2), uami_id(3)


@pytest.mark.parametrize("spelling, system, user", [
    ("None", False, False), ("none", False, False),
    ("SystemAssigned", True, False), ("systemassigned", True, False),
    ("UserAssigned", False, True),
    ("SystemAssigned,UserAssigned", True, True), ("SystemAssigned, UserAssigned", True, True),
    ("systemAssigned ,  userAssigned", True, True),
])
def test_type_spellings(spelling: str, system: bool, user: bool) -> None:
    block: dict[str, Any] = {"type": spelling}
    if user:
        block["userAssignedIdentities"] = {A: {}}
    change = parse_identity(block)
    assert change is not None
    assert (change.system, change.user_enabled) == (system, user)


def test_no_block_is_no_change() -> None:
    assert parse_identity(None) is None


@pytest.mark.parametrize("block, code", [
    ("SystemAssigned", "InvalidRequestContent"),
    ({}, "InvalidIdentityType"),
    ({"type": None}, "InvalidIdentityType"),
    ({"type": "Bogus"}, "InvalidIdentityType"),
    ({"type": "SystemAssigned;UserAssigned"}, "InvalidIdentityType"),
    ({"type": "UserAssigned", "userAssignedIdentities": [A]}, "InvalidRequestContent"),
    ({"type": "UserAssigned", "userAssignedIdentities": {A: "yes"}}, "InvalidRequestContent"),
    ({"type": "SystemAssigned", "userAssignedIdentities": {A: {}}}, "InvalidIdentityValues"),
    ({"type": "UserAssigned", "userAssignedIdentities": {"not-an-id": {}}}, "LinkedInvalidPropertyId"),
    ({"type": "UserAssigned", "userAssignedIdentities": {
        f"/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm1": {}}},
     "LinkedInvalidPropertyId"),
])
def test_malformed_blocks(block: Any, code: str) -> None:
    with pytest.raises(InvalidInput) as info:
        parse_identity(block)
    assert info.value.code == code


def test_provider_restrictions() -> None:
    with pytest.raises(InvalidInput):
        parse_identity({"type": "SystemAssigned,UserAssigned", "userAssignedIdentities": {A: {}}}, allow_both=False)
    with pytest.raises(InvalidInput):
        parse_identity({"type": "UserAssigned", "userAssignedIdentities": {A: {}}}, allow_user=False)
    assert parse_identity({"type": "SystemAssigned"}, allow_both=False, allow_user=False) is not None


def test_null_values_remove_and_objects_add() -> None:
    change = parse_identity({"type": "UserAssigned", "userAssignedIdentities": {A: {}, B: None}})
    assert change is not None
    assert [str(r) for r in change.add] == [A]
    assert [str(r) for r in change.remove] == [B]


def test_null_removal_is_allowed_with_type_none() -> None:
    change = parse_identity({"type": "None", "userAssignedIdentities": {A: None}})
    assert change == IdentityChange(False, False, (), (parse_resource_id(A),))


def test_duplicate_spellings_of_one_id_count_once() -> None:
    change = parse_identity({"type": "UserAssigned", "userAssignedIdentities": {A: {}, A.lower(): {}}})
    assert change is not None and len(change.add) == 1


def _change(block: dict[str, Any]) -> IdentityChange:
    change = parse_identity(block)
    assert change is not None
    return change


def ids(*values: str) -> list[Any]:
    return [parse_resource_id(v) for v in values]


def test_patch_merges_and_null_removes() -> None:
    current = ids(A, B)
    change = _change({"type": "UserAssigned", "userAssignedIdentities": {C: {}, A: None}})
    assert [str(r) for r in next_user_assigned(current, change, merge=True, limit=20)] == [B, C]


def test_put_replaces() -> None:
    change = _change({"type": "UserAssigned", "userAssignedIdentities": {C: {}}})
    assert [str(r) for r in next_user_assigned(ids(A, B), change, merge=False, limit=20)] == [C]


def test_patch_with_type_only_keeps_current() -> None:
    change = _change({"type": "SystemAssigned, UserAssigned"})
    assert [str(r) for r in next_user_assigned(ids(A), change, merge=True, limit=20)] == [A]


def test_type_without_user_assigned_clears_them() -> None:
    change = _change({"type": "SystemAssigned"})
    assert next_user_assigned(ids(A, B), change, merge=True, limit=20) == []


def test_adding_an_attached_id_in_other_casing_is_a_no_op() -> None:
    change = _change({"type": "UserAssigned", "userAssignedIdentities": {A.upper().replace("SUBSCRIPTIONS",
                                                                                           "subscriptions"): {}}})
    assert len(next_user_assigned(ids(A), change, merge=True, limit=20)) == 1


def test_limit_of_twenty() -> None:
    twenty = [uami_id(n) for n in range(20)]
    at_limit = _change({"type": "UserAssigned", "userAssignedIdentities": {i: {} for i in twenty}})
    assert len(next_user_assigned([], at_limit, merge=False, limit=20)) == 20
    over = _change({"type": "UserAssigned", "userAssignedIdentities": {uami_id(20): {}}})
    with pytest.raises(LimitExceeded) as info:
        next_user_assigned(ids(*twenty), over, merge=True, limit=20)
    assert "'21'" in info.value.message and "'20'" in info.value.message
    # removing one in the same request keeps it within the limit
    swap = _change({"type": "UserAssigned", "userAssignedIdentities": {uami_id(20): {}, twenty[0]: None}})
    assert len(next_user_assigned(ids(*twenty), swap, merge=True, limit=20)) == 20
