"""ids.parse_resource_id and friends: ARM ids are parsed strictly and compared case-insensitively."""

from __future__ import annotations

import pytest

from azmi.errors import InvalidInput
from azmi.ids import ResourceId, check_guid, check_rg_name, group_key, new_secret, parse_resource_id

SUB = "00000000-0000-0000-0000-00000000A2A1"
UAMI = f"/subscriptions/{SUB}/resourceGroups/My.Group_(1)/providers/Microsoft.ManagedIdentity/userAssignedIdentities/Id1"


def test_parse_keeps_name_casing_and_lowers_the_subscription() -> None:
    rid = parse_resource_id(UAMI)
    assert rid == ResourceId(SUB.lower(), "My.Group_(1)", "Microsoft.ManagedIdentity", "userAssignedIdentities", "Id1")
    assert rid.full_type == "Microsoft.ManagedIdentity/userAssignedIdentities"
    assert str(rid) == UAMI.replace(SUB, SUB.lower())
    assert rid.lower_rg_form() == str(rid).replace("/resourceGroups/", "/resourcegroups/")
    assert rid.key == str(rid).lower()
    assert rid.group_key == group_key(SUB, "My.Group_(1)") == f"/subscriptions/{SUB.lower()}/resourcegroups/my.group_(1)"


@pytest.mark.parametrize("variant", [UAMI.lower(), UAMI.upper().replace("SUBSCRIPTIONS", "subscriptions"),
                                     UAMI.replace("resourceGroups", "resourcegroups"), UAMI + "/", "  " + UAMI,
                                     UAMI.lstrip("/")])
def test_spellings_share_one_key(variant: str) -> None:
    assert parse_resource_id(variant).key == parse_resource_id(UAMI).key


@pytest.mark.parametrize("bad", [
    "",
    "not-an-id",
    f"/subscriptions/{SUB}/resourceGroups/rg",
    f"/subscriptions/not-a-guid/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm",
    f"/subscriptions/{SUB}/groups/rg/providers/Microsoft.Compute/virtualMachines/vm",
    f"/subscriptions/{SUB}/resourceGroups/rg/provider/Microsoft.Compute/virtualMachines/vm",
    f"/subscriptions/{SUB}/resourceGroups/rg/providers/Compute/virtualMachines/vm",
    f"/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines",
    f"/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm/extensions/x",
    f"/subscriptions/{SUB}/resourceGroups/bad!rg/providers/Microsoft.Compute/virtualMachines/vm",
    f"/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/a?b",
    f"/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/" + "a" * 2100,
    None,
    42,
])
def test_malformed_ids_raise_invalid_input(bad: object) -> None:
    with pytest.raises(InvalidInput) as info:
        parse_resource_id(bad)  # type: ignore[arg-type]
    assert info.value.code == "LinkedInvalidPropertyId"


def test_check_guid() -> None:
    assert check_guid("ABCDEF01-2345-6789-ABCD-EF0123456789", "x") == "abcdef01-2345-6789-abcd-ef0123456789"
    with pytest.raises(InvalidInput) as info:
        check_guid("12345", "subscription id")
    assert info.value.code == "InvalidSubscriptionId"


@pytest.mark.parametrize("name, ok", [("rg", True), ("a" * 90, True), ("a" * 91, False), ("x.", False),
                                      ("(x)-y_z.1", True), ("", False), ("a b", False), ("a/b", False)])
def test_check_rg_name(name: str, ok: bool) -> None:
    if ok:
        assert check_rg_name(name) == name
    else:
        with pytest.raises(InvalidInput):
            check_rg_name(name)


def test_secrets_are_unguessable_and_url_safe() -> None:
    values = {new_secret() for _ in range(100)}
    assert len(values) == 100
    assert all(len(v) >= 43 and all(c.isalnum() or c in "-_" for c in v) for v in values)
