"""`identity assign|remove` computed from the resource's current identity (azure-cli rules)."""

from __future__ import annotations

import pytest

from azmi.cli.errors import CliError
from azmi.cli.identity_ops import (IdentityRequest, assign_patch, create_identity, parse_identity_refs,
                                   remove_patch, shown_identity, uami_id, vm_identity_summary)
from azmi.cli.resources import BOTH_COMPACT, BOTH_SPACED

SUB, RG = "sub-1", "rg1"
ID1 = f"/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id1"
ID2 = f"/subscriptions/{SUB}/resourceGroups/other/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id2"


def test_bare_name_resolves_to_uami_in_same_group_and_ids_pass_through() -> None:
    assert uami_id("id1", SUB, RG) == ID1
    assert uami_id(ID2, SUB, RG) == ID2


def test_no_identities_means_system() -> None:
    assert parse_identity_refs((), SUB, RG) == IdentityRequest(True, ())
    assert parse_identity_refs(None, SUB, RG) == IdentityRequest(True, ())


def test_system_token_and_names_mixed_deduplicated() -> None:
    req = parse_identity_refs(["[system]", "id1", ID1.upper(), ID2], SUB, RG)
    assert req == IdentityRequest(True, (ID1, ID2))
    assert parse_identity_refs(["id1"], SUB, RG) == IdentityRequest(False, (ID1,))


@pytest.mark.parametrize(("current", "request_", "expected_type"), [
    (None, IdentityRequest(True, ()), "SystemAssigned"),
    (None, IdentityRequest(False, (ID1,)), "UserAssigned"),
    (None, IdentityRequest(True, (ID1,)), BOTH_SPACED),
    ({"type": "SystemAssigned"}, IdentityRequest(False, (ID1,)), BOTH_SPACED),
    ({"type": "UserAssigned"}, IdentityRequest(True, ()), BOTH_SPACED),
    ({"type": "UserAssigned"}, IdentityRequest(False, (ID2,)), "UserAssigned"),
    ({"type": "SystemAssigned,UserAssigned"}, IdentityRequest(True, ()), BOTH_SPACED),
    ({"type": "None"}, IdentityRequest(True, ()), "SystemAssigned"),
])
def test_assign_type_keeps_current_and_adds_requested(current: dict | None, request_: IdentityRequest,
                                                      expected_type: str) -> None:
    assert assign_patch(current, request_, BOTH_SPACED)["identity"]["type"] == expected_type


def test_assign_sends_only_new_ids_as_empty_objects() -> None:
    current = {"type": "UserAssigned", "userAssignedIdentities": {ID2: {"clientId": "c", "principalId": "p"}}}
    patch = assign_patch(current, IdentityRequest(False, (ID1,)), BOTH_COMPACT)
    assert patch == {"identity": {"type": "UserAssigned", "userAssignedIdentities": {ID1: {}}}}


def test_web_spelling_of_both() -> None:
    assert assign_patch({"type": "SystemAssigned"}, IdentityRequest(False, (ID1,)),
                        BOTH_COMPACT)["identity"]["type"] == "SystemAssigned,UserAssigned"


def test_remove_one_of_two_uamis_nulls_it_keeps_type() -> None:
    current = {"type": "SystemAssigned, UserAssigned", "userAssignedIdentities": {ID1: {}, ID2: {}}}
    patch = remove_patch(current, IdentityRequest(False, (ID1.lower(),)), "vm1", BOTH_SPACED)
    assert patch == {"identity": {"type": BOTH_SPACED, "userAssignedIdentities": {ID1: None}}}


def test_remove_last_uami_keeps_system_only() -> None:
    current = {"type": "SystemAssigned, UserAssigned", "userAssignedIdentities": {ID1: {}}}
    assert remove_patch(current, IdentityRequest(False, (ID1,)), "vm1", BOTH_SPACED) == {
        "identity": {"type": "SystemAssigned"}}


def test_remove_last_uami_without_system_is_none() -> None:
    current = {"type": "UserAssigned", "userAssignedIdentities": {ID1: {}}}
    assert remove_patch(current, IdentityRequest(False, (ID1,)), "vm1", BOTH_SPACED) == {"identity": {"type": "None"}}


def test_remove_system_keeps_user_assigned() -> None:
    current = {"type": "SystemAssigned,UserAssigned", "userAssignedIdentities": {ID1: {}}}
    assert remove_patch(current, IdentityRequest(True, ()), "app", BOTH_COMPACT) == {
        "identity": {"type": "UserAssigned"}}
    assert remove_patch({"type": "SystemAssigned"}, IdentityRequest(True, ()), "app", BOTH_COMPACT) == {
        "identity": {"type": "None"}}


def test_remove_everything() -> None:
    current = {"type": "SystemAssigned, UserAssigned", "userAssignedIdentities": {ID1: {}, ID2: {}}}
    assert remove_patch(current, IdentityRequest(True, (ID1, ID2)), "vm1", BOTH_SPACED) == {
        "identity": {"type": "None"}}


def test_remove_unattached_uami_is_an_error() -> None:
    with pytest.raises(CliError, match=r"^'.*/id2' are not associated with 'vm1'$"):
        remove_patch({"type": "UserAssigned", "userAssignedIdentities": {ID1: {}}},
                     IdentityRequest(False, (ID2,)), "vm1", BOTH_SPACED)


def test_create_identity_block() -> None:
    assert create_identity(None, BOTH_SPACED) is None
    assert create_identity(IdentityRequest(True, (ID1,)), BOTH_SPACED) == {
        "type": BOTH_SPACED, "userAssignedIdentities": {ID1: {}}}


def test_vm_summary_shape() -> None:
    identity = {"type": BOTH_SPACED, "principalId": "sp", "tenantId": "t",
                "userAssignedIdentities": {ID1: {"principalId": "up", "clientId": "uc"}}}
    assert vm_identity_summary(identity) == {"systemAssignedIdentity": "sp",
                                             "userAssignedIdentities": {ID1: {"clientId": "uc", "principalId": "up"}}}
    assert vm_identity_summary({"type": "UserAssigned"})["systemAssignedIdentity"] == ""


def test_show_prints_nothing_without_identity() -> None:
    assert shown_identity(None) is None
    assert shown_identity({"type": "None"}) is None
    assert shown_identity({"type": "SystemAssigned", "principalId": "p"}) == {"type": "SystemAssigned",
                                                                             "principalId": "p"}
