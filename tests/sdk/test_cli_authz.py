"""The real `azmi` CLI, black-box, against a running azmi: the chapter's identity, RBAC and
Key Vault commands (`role assignment`, `keyvault set-policy`, `keyvault secret`, `ad sp show`).
"""

from __future__ import annotations

import json
import re
import uuid
from typing import Any

import pytest

from tests.conftest import Server

GUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def az(server: Server, *args: str, expect: int = 0) -> Any:
    """Run the CLI; on success return its parsed JSON output (None when it printed nothing)."""
    done = server.cli(*args)
    assert done.returncode == expect, f"{args}: rc={done.returncode}\n{done.stdout}\n{done.stderr}"
    if expect != 0:
        return done
    return json.loads(done.stdout) if done.stdout.strip() else None


def tsv(server: Server, *args: str) -> str:
    done = server.cli(*args, "-o", "tsv")
    assert done.returncode == 0, done.stderr
    return done.stdout


def unique(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4().hex[:10]}"


@pytest.fixture
def group(server: Server) -> str:
    name = unique("rg-cli-")
    az(server, "group", "create", "-n", name, "-l", "eastus", "-o", "none")
    return name


def vm_with_identity(server: Server, group: str) -> tuple[str, str]:
    """(vm name, system-assigned principal id), made with the chapter's `vm identity assign`."""
    name = unique("vm")
    az(server, "vm", "create", "-g", group, "-n", name, "--image", "Ubuntu2204", "-o", "none")
    assigned = az(server, "vm", "identity", "assign", "-g", group, "-n", name)
    assert GUID.match(assigned["systemAssignedIdentity"])
    return name, assigned["systemAssignedIdentity"]


def test_chapter_identity_commands(server: Server, group: str) -> None:
    vm, _ = vm_with_identity(server, group)
    uami = az(server, "identity", "create", "-g", group, "-n", "app-id")
    client_id = tsv(server, "identity", "show", "-g", group, "-n", "app-id", "--query", "clientId")
    assert GUID.match(client_id.rstrip("\n")) and client_id == uami["clientId"] + "\n"
    both = az(server, "vm", "identity", "assign", "-g", group, "-n", vm, "--identities", uami["id"])
    assert both["systemAssignedIdentity"]
    assert [k.lower() for k in both["userAssignedIdentities"]] == [uami["id"].lower()]  # MSI ids say resourcegroups
    az(server, "webapp", "create", "-g", group, "-n", unique("app"), "-p", "plan", "-o", "none")
    app = az(server, "webapp", "list", "-g", group, "--query", "[0].name")
    assert az(server, "webapp", "identity", "assign", "-g", group, "-n", app)["type"] == "SystemAssigned"


def test_ad_sp_show_by_client_id_and_missing(server: Server, group: str) -> None:
    uami = az(server, "identity", "create", "-g", group, "-n", "sp-id")
    sp = az(server, "ad", "sp", "show", "--id", uami["clientId"])
    assert (sp["id"], sp["appId"]) == (uami["principalId"], uami["clientId"])
    missing = str(uuid.uuid4())
    done = az(server, "ad", "sp", "show", "--id", missing, expect=3)
    assert done.stderr == (f"ERROR: Resource '{missing}' does not exist or one of its queried reference-property "
                           "objects are not present.\n")
    me = az(server, "ad", "signed-in-user", "show")
    assert me["id"] == server.operator["object_id"]


def test_set_policy_on_an_access_policy_vault(server: Server, group: str) -> None:
    _, principal = vm_with_identity(server, group)
    vault = unique("kvp")
    az(server, "keyvault", "create", "-n", vault, "-g", group, "--enable-rbac-authorization", "false", "-o", "none")
    shown = az(server, "keyvault", "set-policy", "--name", vault, "--object-id", principal,
               "--secret-permissions", "get", "list")
    policies = {p["objectId"]: p["permissions"] for p in shown["properties"]["accessPolicies"]}
    assert policies[principal]["secrets"] == ["get", "list"]
    assert "set" in policies[server.operator["object_id"]]["secrets"]  # az grants the creator
    az(server, "keyvault", "secret", "set", "--vault-name", vault, "-n", "s", "--value", "v", "-o", "none")
    az(server, "keyvault", "delete-policy", "--name", vault, "--object-id", principal, "-o", "none")
    left = az(server, "keyvault", "show", "-n", vault, "--query", "properties.accessPolicies[].objectId")
    assert left == [server.operator["object_id"]]


def test_set_policy_is_refused_on_an_rbac_vault(server: Server, group: str) -> None:
    vault = unique("kvr")
    az(server, "keyvault", "create", "-n", vault, "-g", group, "-o", "none")
    done = az(server, "keyvault", "set-policy", "-n", vault, "--object-id", str(uuid.uuid4()),
              "--secret-permissions", "get", expect=1)
    assert done.stderr == "ERROR: Cannot set policies to a vault with '--enable-rbac-authorization' specified\n"


def test_role_assignment_lifecycle_and_orphan(server: Server, group: str) -> None:
    vm, principal = vm_with_identity(server, group)
    vault = unique("kva")
    vault_id = az(server, "keyvault", "create", "-n", vault, "-g", group, "--query", "id")
    created = az(server, "role", "assignment", "create", "--role", "Key Vault Secrets User",
                 "--assignee-object-id", principal, "--assignee-principal-type", "ServicePrincipal",
                 "--scope", vault_id)
    assert (created["principalId"], created["scope"], created["principalType"]) == (principal, vault_id,
                                                                                     "ServicePrincipal")
    assert created["roleDefinitionId"].endswith("/4633458b-17de-408a-b874-0445c86b69e6")
    again = az(server, "role", "assignment", "create", "--role", "key vault secrets user",
               "--assignee-object-id", principal, "--scope", vault_id)
    assert again["id"] == created["id"]  # az returns the existing assignment

    listed = az(server, "role", "assignment", "list", "--scope", vault_id)
    assert [(a["principalId"], a["roleDefinitionName"]) for a in listed] == [(principal, "Key Vault Secrets User")]
    assert listed[0]["principalName"]
    table = server.cli("role", "assignment", "list", "--scope", vault_id, "-o", "table").stdout.splitlines()
    assert table[0].split() == ["Principal", "Role", "Scope"]

    az(server, "vm", "delete", "-g", group, "-n", vm, "--yes")
    orphan = az(server, "role", "assignment", "list", "--scope", vault_id)
    assert [(a["principalId"], a["principalName"]) for a in orphan] == [(principal, "")]

    az(server, "role", "assignment", "delete", "--ids", created["id"])
    assert az(server, "role", "assignment", "list", "--scope", vault_id) == []


def test_operator_secrets_need_a_data_role_on_an_rbac_vault(server: Server, group: str) -> None:
    vault = unique("kvs")
    vault_id = az(server, "keyvault", "create", "-n", vault, "-g", group, "--query", "id")
    refused = az(server, "keyvault", "secret", "show", "--vault-name", vault, "-n", "db-pass", expect=1)
    assert refused.stderr.startswith("ERROR: (Forbidden) ") and "ForbiddenByRbac" in refused.stderr

    az(server, "role", "assignment", "create", "--role", "Key Vault Secrets Officer",
       "--assignee", server.operator["object_id"], "--scope", vault_id, "-o", "none")
    created = az(server, "keyvault", "secret", "set", "--vault-name", vault, "-n", "db-pass", "--value", "s3cret")
    assert (created["name"], created["value"]) == ("db-pass", "s3cret")
    assert tsv(server, "keyvault", "secret", "show", "--vault-name", vault, "-n", "db-pass",
               "--query", "value") == "s3cret\n"
    names = az(server, "keyvault", "secret", "list", "--vault-name", vault, "--query", "[].name")
    assert names == ["db-pass"]
    deleted = az(server, "keyvault", "secret", "delete", "--vault-name", vault, "-n", "db-pass")
    assert deleted["recoveryId"].endswith("/deletedsecrets/db-pass")
    assert az(server, "keyvault", "secret", "list", "--vault-name", vault) == []
    gone = az(server, "keyvault", "secret", "show", "--vault-name", vault, "-n", "db-pass", expect=3)
    assert "SecretNotFound" in gone.stderr


def test_role_definitions_builtin_and_custom(server: Server) -> None:
    builtin = az(server, "role", "definition", "list", "--name", "Key Vault Secrets User")
    assert [(d["roleName"], d["roleType"], d["name"]) for d in builtin] == [
        ("Key Vault Secrets User", "BuiltInRole", "4633458b-17de-408a-b874-0445c86b69e6")]
    name = unique("Reader ")
    spec = {"Name": name, "Description": "reads", "Actions": ["*/read"], "NotActions": [], "DataActions": [],
            "NotDataActions": [], "AssignableScopes": [f"/subscriptions/{server.sub}"]}
    custom = az(server, "role", "definition", "create", "--role-definition", json.dumps(spec))
    assert (custom["roleName"], custom["roleType"], custom["permissions"][0]["actions"]) == (
        name, "CustomRole", ["*/read"])
    assert name in az(server, "role", "definition", "list", "--custom-role-only", "--query", "[].roleName")
    az(server, "role", "definition", "delete", "--name", name)
    assert az(server, "role", "definition", "list", "--name", name) == []


def test_identity_assign_with_role_and_scope_grants_the_system_identity(server: Server, group: str) -> None:
    vault = unique("kvg")
    vault_id = az(server, "keyvault", "create", "-n", vault, "-g", group, "--query", "id")
    vm = unique("vm")
    az(server, "vm", "create", "-g", group, "-n", vm, "-o", "none")
    assigned = az(server, "vm", "identity", "assign", "-g", group, "-n", vm, "--role", "Key Vault Secrets User",
                  "--scope", vault_id)
    listed = az(server, "role", "assignment", "list", "--scope", vault_id, "--assignee",
                assigned["systemAssignedIdentity"], "--query", "[].roleDefinitionName")
    assert listed == ["Key Vault Secrets User"]
    half = az(server, "vm", "identity", "assign", "-g", group, "-n", vm, "--scope", vault_id, expect=1)
    assert "please specify both --role and --scope" in half.stderr
