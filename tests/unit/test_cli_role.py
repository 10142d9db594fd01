"""`azmi role` / `azmi ad`: pure rules (role_ops, ad helpers) and the commands against a fake ARM."""

from __future__ import annotations

import json
from typing import Any

import pytest
from click.testing import CliRunner

from azmi.cli.ad import displayable_name, principal_type
from azmi.cli.context import Endpoints, Session
from azmi.cli.errors import CliError
from azmi.cli.main import cli
from azmi.cli.role_ops import (build_scope, covers, definition_view, enrich_assignments, filter_definitions,
                               keep_assignment, load_json_argument, pick_role, role_definition_request,
                               role_id_without_lookup, transform_assignment_list)

SUB = "00000000-0000-0000-0000-000000000001"
KVSU = "4633458b-17de-408a-b874-0445c86b69e6"
KVSU_ID = f"/subscriptions/{SUB}/providers/Microsoft.Authorization/roleDefinitions/{KVSU}"
VAULT = f"/subscriptions/{SUB}/resourceGroups/rg1/providers/Microsoft.KeyVault/vaults/kv1"
SP_OID = "11111111-1111-1111-1111-111111111111"
SP_APPID = "22222222-2222-2222-2222-222222222222"
GONE = "33333333-3333-3333-3333-333333333333"
SP = {"@odata.type": "#microsoft.graph.servicePrincipal", "id": SP_OID, "appId": SP_APPID, "displayName": "vm1",
      "servicePrincipalNames": [SP_APPID, "/subscriptions/x"]}
USER = {"@odata.type": "#microsoft.graph.user", "id": "44444444-4444-4444-4444-444444444444",
        "displayName": "azmi operator", "userPrincipalName": "operator@azmi.local"}
KVSU_DEF = {"id": KVSU_ID, "name": KVSU, "type": "Microsoft.Authorization/roleDefinitions",
            "properties": {"roleName": "Key Vault Secrets User", "type": "BuiltInRole", "description": "d",
                           "assignableScopes": ["/"], "permissions": [{"actions": [], "dataActions": ["x"]}]}}


def assignment(scope: str, principal: str, name: str = "a1", role_id: str = KVSU_ID) -> dict[str, Any]:
    return {"id": f"{scope}/providers/Microsoft.Authorization/roleAssignments/{name}", "name": name,
            "type": "Microsoft.Authorization/roleAssignments",
            "properties": {"roleDefinitionId": role_id, "principalId": principal, "principalType": "ServicePrincipal",
                           "scope": scope}}


# --- pure rules ---------------------------------------------------------------------------------

def test_scope_defaults_to_group_then_subscription() -> None:
    assert build_scope(SUB, None, VAULT + "/") == VAULT
    assert build_scope(SUB, "rg1", None) == f"/subscriptions/{SUB}/resourceGroups/rg1"
    assert build_scope(SUB, None, None) == f"/subscriptions/{SUB}"


def test_role_id_from_guid_or_full_id_and_none_for_a_name() -> None:
    assert role_id_without_lookup(KVSU.upper(), SUB) == KVSU_ID
    assert role_id_without_lookup(KVSU_ID, SUB) == KVSU_ID
    tenant_level = f"/providers/Microsoft.Authorization/roleDefinitions/{KVSU}"
    assert role_id_without_lookup(tenant_level, SUB) == tenant_level
    assert role_id_without_lookup("Key Vault Secrets User", SUB) is None


def test_pick_role_needs_exactly_one_match() -> None:
    assert pick_role("x", [KVSU_DEF]) == KVSU_ID
    with pytest.raises(CliError, match="Role 'nope' doesn't exist."):
        pick_role("nope", [])
    with pytest.raises(CliError, match="More than one role matches the given name 'x'"):
        pick_role("x", [KVSU_DEF, KVSU_DEF])


def test_exact_scope_unless_inherited() -> None:
    sub_level = assignment(f"/subscriptions/{SUB}", SP_OID)
    assert not keep_assignment(sub_level, VAULT, include_inherited=False)
    assert keep_assignment(sub_level, VAULT, include_inherited=True)
    assert keep_assignment(assignment(VAULT.upper(), SP_OID), VAULT, include_inherited=False)
    assert keep_assignment(sub_level, None, include_inherited=False)
    assert covers("/", VAULT) and not covers(VAULT, f"/subscriptions/{SUB}")
    assert not covers(f"/subscriptions/{SUB}/resourceGroups/rg", f"/subscriptions/{SUB}/resourceGroups/rg1")


def test_enrich_sets_role_name_and_empty_principal_name_for_orphans() -> None:
    rows = [{"principalId": SP_OID, "roleDefinitionId": KVSU_ID.upper(), "scope": VAULT},
            {"principalId": GONE, "roleDefinitionId": KVSU_ID, "scope": VAULT}]
    out = enrich_assignments(rows, [KVSU_DEF], {SP_OID: "vm-name"})
    assert [(r["principalName"], r["roleDefinitionName"]) for r in out] == [
        ("vm-name", "Key Vault Secrets User"), ("", "Key Vault Secrets User")]
    table = transform_assignment_list(out)
    assert list(table[0].items()) == [("Principal", "vm-name"), ("Role", "Key Vault Secrets User"), ("Scope", VAULT)]


def test_displayable_name_and_principal_type_follow_az() -> None:
    assert displayable_name(USER) == "operator@azmi.local" and principal_type(USER) == "User"
    assert displayable_name(SP) == SP_APPID and principal_type(SP) == "ServicePrincipal"
    assert displayable_name({"displayName": "g", "@odata.type": "#microsoft.graph.group"}) == "g"
    assert principal_type({"@odata.type": "#microsoft.graph.group"}) == "Group"


def test_definition_view_flattens_and_renames_type() -> None:
    view = definition_view(KVSU_DEF)
    assert view["roleType"] == "BuiltInRole" and view["type"] == "Microsoft.Authorization/roleDefinitions"
    assert view["roleName"] == "Key Vault Secrets User" and "properties" not in view


def test_filter_definitions_by_name_or_guid_and_custom_only() -> None:
    custom = {"name": "c", "properties": {"roleName": "Mine", "type": "CustomRole"}}
    assert filter_definitions([KVSU_DEF, custom], "key vault secrets user", False) == [KVSU_DEF]
    assert filter_definitions([KVSU_DEF, custom], KVSU.upper(), False) == [KVSU_DEF]
    assert filter_definitions([KVSU_DEF, custom], None, True) == [custom]


def test_role_definition_input_in_az_shape() -> None:
    scope, body = role_definition_request({
        "Name": "My Role", "Description": "d", "Actions": ["*/read"], "DataActions": ["a/b"],
        "AssignableScopes": [f"/subscriptions/{SUB}"]})
    assert scope == f"/subscriptions/{SUB}"
    assert body == {"properties": {"roleName": "My Role", "description": "d", "type": "CustomRole",
                                   "assignableScopes": [f"/subscriptions/{SUB}"],
                                   "permissions": [{"actions": ["*/read"], "notActions": [], "dataActions": ["a/b"],
                                                    "notDataActions": []}]}}
    with pytest.raises(CliError, match="please provide role name"):
        role_definition_request({"Actions": []})
    with pytest.raises(CliError, match="please provide 'assignableScopes'"):
        role_definition_request({"Name": "x"})


def test_json_argument_inline_at_file_and_plain_path(tmp_path: Any) -> None:
    path = tmp_path / "role.json"
    path.write_text('{"Name": "f"}', encoding="utf-8")
    assert load_json_argument('{"Name": "i"}') == {"Name": "i"}
    assert load_json_argument(f"@{path}") == {"Name": "f"}
    assert load_json_argument(str(path)) == {"Name": "f"}
    with pytest.raises(CliError, match="Failed to parse string as JSON"):
        load_json_argument("{nope")


# --- commands against a fake ARM -------------------------------------------------------------

class FakeAuthz:
    def __init__(self) -> None:
        self.endpoints = Endpoints(arm="https://arm", login="https://login", tenant_id="t", subscription_id=SUB)
        self.calls: list[tuple[str, str, Any]] = []
        self.assignments: list[dict[str, Any]] = []
        self.principals = {SP_OID: SP, SP_APPID: SP}

    def resolve_subscription(self, value: str | None) -> str:
        return SUB

    def list(self, path: str, api_version: str, params: dict[str, str] | None = None) -> list[Any]:
        self.calls.append(("LIST", path, params))
        if path.endswith("/roleDefinitions"):
            wanted = (params or {}).get("$filter", "")
            return [KVSU_DEF] if not wanted or "key vault secrets user" in wanted.lower() else []
        return list(self.assignments)

    def request(self, method: str, path: str, api_version: str | None = None, **kw: Any) -> tuple[int, Any]:
        self.calls.append((method, path, kw.get("body")))
        if path.startswith("/azmi/principals/"):
            found = self.principals.get(path.rsplit("/", 1)[-1])
            return (200, found) if found else (404, None)
        return 200, None

    def put(self, path: str, api_version: str, body: Any) -> Any:
        self.calls.append(("PUT", path, body))
        scope = path.split("/providers/Microsoft.Authorization/")[0]
        created = assignment(scope, body["properties"]["principalId"], path.rsplit("/", 1)[-1])
        self.assignments.append(created)
        return created


@pytest.fixture
def arm(monkeypatch: pytest.MonkeyPatch) -> FakeAuthz:
    fake = FakeAuthz()
    monkeypatch.setattr(Session, "arm", lambda self: fake)
    return fake


def invoke(*args: str) -> Any:
    return CliRunner().invoke(cli, ["--data-dir", "/nonexistent", *args])


def test_create_resolves_role_name_and_client_id(arm: FakeAuthz) -> None:
    result = invoke("role", "assignment", "create", "--role", "Key Vault Secrets User", "--assignee", SP_APPID,
                    "--scope", VAULT)
    assert result.exit_code == 0, result.output
    assert ("LIST", f"{VAULT}/providers/Microsoft.Authorization/roleDefinitions",
            {"$filter": "roleName eq 'Key Vault Secrets User'"}) in arm.calls
    method, path, body = arm.calls[-1]
    assert method == "PUT" and path.startswith(f"{VAULT}/providers/Microsoft.Authorization/roleAssignments/")
    assert body == {"properties": {"roleDefinitionId": KVSU_ID, "principalId": SP_OID,
                                   "principalType": "ServicePrincipal"}}
    shown = json.loads(result.stdout)
    assert shown["principalId"] == SP_OID and shown["resourceGroup"] == "rg1" and "properties" not in shown


def test_create_usage_errors(arm: FakeAuthz) -> None:
    both = invoke("role", "assignment", "create", "--role", KVSU, "--assignee", "a", "--assignee-object-id", "b",
                  "--scope", VAULT)
    assert both.exit_code == 1 and "usage error: --assignee STRING | --assignee-object-id GUID" in both.stderr
    no_scope = invoke("role", "assignment", "create", "--role", KVSU, "--assignee-object-id", SP_OID)
    assert no_scope.exit_code == 2
    unknown = invoke("role", "assignment", "create", "--role", KVSU, "--assignee", "nobody", "--scope", VAULT)
    assert unknown.exit_code == 1 and "Cannot find user or service principal in graph database for 'nobody'" \
        in unknown.stderr


def test_list_keeps_orphans_with_empty_principal_name(arm: FakeAuthz) -> None:
    arm.assignments = [assignment(VAULT, SP_OID, "a1"), assignment(VAULT, GONE, "a2"),
                       assignment(f"/subscriptions/{SUB}", SP_OID, "a3")]
    result = invoke("role", "assignment", "list", "--scope", VAULT, "--query",
                    "[].[principalName, roleDefinitionName]", "-o", "tsv")
    assert result.exit_code == 0, result.output
    assert result.stdout == f"{SP_APPID}\tKey Vault Secrets User\n\tKey Vault Secrets User\n"
    assert ("LIST", f"{VAULT}/providers/Microsoft.Authorization/roleAssignments", {"$filter": "atScope()"}) in arm.calls


def test_delete_by_assignee_and_role(arm: FakeAuthz) -> None:
    arm.assignments = [assignment(VAULT, SP_OID, "a1")]
    result = invoke("role", "assignment", "delete", "--assignee", SP_OID, "--role", KVSU, "--scope", VAULT)
    assert result.exit_code == 0, result.output
    assert arm.calls[-1] == ("DELETE", arm.assignments[0]["id"], None)
    arm.assignments = []
    none_left = invoke("role", "assignment", "delete", "--assignee", SP_OID, "--scope", VAULT)
    assert none_left.exit_code == 1 and "No matched assignments were found to delete" in none_left.stderr


def test_ad_sp_show_not_found_is_exit_3(arm: FakeAuthz) -> None:
    result = invoke("ad", "sp", "show", "--id", GONE)
    assert result.exit_code == 3
    assert result.stderr == (f"ERROR: Resource '{GONE}' does not exist or one of its queried reference-property "
                             "objects are not present.\n")
    assert json.loads(invoke("ad", "sp", "show", "--id", SP_APPID).stdout)["id"] == SP_OID
