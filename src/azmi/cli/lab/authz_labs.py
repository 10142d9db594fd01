"""Labs on authorization: an identity gets a token, but a target service decides with its own grants.
Forgotten grant, recreated Function App, cloned VM, Contributor is not a data role."""

from __future__ import annotations

from typing import Any

from azmi.cli.lab.core import Lab, LabRun
from azmi.cli.lab.setup import (SECRET_VALUE, denied_by_rbac, functionapp, grant, identity_show, principal_of,
                                read_secret, vault_with_secret, vm)
from azmi.cli.resource_commands import resource_path
from azmi.cli.resources import FUNCTIONAPP, VM, az_view
from azmi.cli.role import principal_names, search_assignments
from azmi.cli.role_ops import AUTHZ_API, collection, enrich_assignments

SECRETS_USER = "Key Vault Secrets User"


def forgotten_grant(run: LabRun) -> None:
    kv = vault_with_secret(run)
    fn = functionapp(run, "func1")
    pid = principal_of(fn)
    run.section("The function reads its secret: no grant yet")
    first = read_secret(run, fn["id"], kv, "func1")
    run.expect(denied_by_rbac(first), f"expected 403 ForbiddenByRbac, got {first}")
    run.section("Grant the identity a data role on the vault, then retry")
    grant(run, SECRETS_USER, pid, kv["id"])
    second = read_secret(run, fn["id"], kv, "func1")
    run.expect(second.get("value") == SECRET_VALUE, f"after the grant the read failed: {second}")
    run.outcome("403 ForbiddenByRbac until 'Key Vault Secrets User' is granted on the vault; then 200.")


def recreated_function_app(run: LabRun) -> None:
    kv = vault_with_secret(run)
    old_pid = principal_of(functionapp(run, "func1"))
    grant(run, SECRETS_USER, old_pid, kv["id"])
    fid = resource_path(run.sess, FUNCTIONAPP, run.rg, "func1")
    ok = read_secret(run, fid, kv, "func1")
    run.expect(ok.get("value") == SECRET_VALUE, f"the granted function app cannot read: {ok}")
    run.section("Delete and recreate the function app (same name)")
    run.cmd(f"azmi functionapp delete -g {run.rg} -n func1")
    run.arm.delete(fid, FUNCTIONAPP.api_version)
    new_pid = principal_of(functionapp(run, "func1"))
    run.say(f"principal before: {old_pid}")
    run.say(f"principal now:    {new_pid}")
    run.expect(new_pid and new_pid != old_pid, "the recreated app kept its old principal")
    denied = read_secret(run, fid, kv, "func1 (recreated)")
    run.expect(denied_by_rbac(denied), f"the recreated app should get 403 ForbiddenByRbac, got {denied}")
    run.section("The vault's role assignments")
    run.cmd(f"azmi role assignment list --scope {kv['id']} -o table")
    rows = [az_view(a) for a in search_assignments(run.sess, str(kv["id"]), None, None, False)]
    defs = run.arm.list(collection(str(kv["id"]), "roleDefinitions"), AUTHZ_API)
    rows = enrich_assignments(rows, defs, principal_names(run.sess, rows))
    for r in rows:
        run.say(f"{r.get('principalName') or '(empty)':<40} {r.get('roleDefinitionName')}  {r.get('principalId')}")
    orphan = [r for r in rows if str(r.get("principalId")).lower() == old_pid.lower()]
    run.expect(orphan and orphan[0].get("principalName") == "", "the old grant should remain, with no principal name")
    run.expect(not any(str(r.get("principalId")).lower() == new_pid.lower() for r in rows), "new app got a grant")
    run.outcome("new app = new principal = 403; the old grant is orphaned (empty principal name). Grant again.")


def _clone_body(source: dict[str, Any]) -> dict[str, Any]:
    props = source.get("properties") or {}
    return {"tags": dict(source.get("tags") or {}),
            "properties": {k: props[k] for k in ("hardwareProfile", "storageProfile") if k in props}}


def cloned_vm(run: LabRun) -> None:
    kv = vault_with_secret(run)
    vm1 = vm(run, "vm1")
    grant(run, SECRETS_USER, principal_of(vm1), kv["id"])
    run.section("Clone vm1: vm2 from vm1's definition (image, size, tags, system-assigned identity on)")
    source = run.arm.get(vm1["id"], VM.api_version)
    vm2 = vm(run, "vm2", body=_clone_body(source), comment="  # same definition as vm1")
    p1, p2 = principal_of(vm1), principal_of(vm2) or identity_show(run, VM, "vm2").get("principalId")
    run.say(f"vm1: {p1}")
    run.say(f"vm2: {p2}")
    run.expect(p2 and p1 != p2, "the clone should have its own principal")
    one = read_secret(run, vm1["id"], kv, "vm1")
    two = read_secret(run, vm2["id"], kv, "vm2")
    run.expect(one.get("value") == SECRET_VALUE, f"vm1 (granted) cannot read: {one}")
    run.expect(denied_by_rbac(two), f"the clone should get 403 ForbiddenByRbac, got {two}")
    grant(run, SECRETS_USER, str(p2), kv["id"])
    again = read_secret(run, vm2["id"], kv, "vm2")
    run.expect(again.get("value") == SECRET_VALUE, f"after its grant the clone cannot read: {again}")
    run.outcome("the clone has the same definition but its own identity: 403 until it is granted too.")


def contributor_not_data_role(run: LabRun) -> None:
    kv = vault_with_secret(run)
    vm1 = vm(run, "vm1")
    scope = f"/subscriptions/{run.sub}/resourceGroups/{run.rg}"
    grant(run, "Contributor", principal_of(vm1), scope)
    denied = read_secret(run, vm1["id"], kv, "vm1")
    run.expect(denied_by_rbac(denied), f"Contributor should not read secrets (403 ForbiddenByRbac), got {denied}")
    run.section("Why: compare the roles' data actions")
    run.cmd("azmi role definition list -n Contributor --query \"[].{actions:permissions[0].actions, "
            "dataActions:permissions[0].dataActions}\"")
    shown = {}
    for role in ("Contributor", SECRETS_USER):
        found = run.arm.list(collection(scope, "roleDefinitions"), AUTHZ_API, params={"$filter": f"roleName eq '{role}'"})
        perm = ((found[0].get("properties") or {}).get("permissions") or [{}])[0] if found else {}
        shown[role] = perm
        run.say(f"{role:<24} actions={perm.get('actions')} dataActions={perm.get('dataActions')}")
    run.expect(not shown["Contributor"].get("dataActions"), "Contributor should have no data actions")
    run.expect(shown[SECRETS_USER].get("dataActions"), "Key Vault Secrets User should have data actions")
    run.outcome("Contributor manages the vault (control plane) but cannot read its secrets (data plane): 403.")


LABS = [
    Lab("forgotten-grant", "A Function App with an identity but no grant on Key Vault",
        "An identity proves who you are; the vault still needs a data role (e.g. Key Vault Secrets User).",
        forgotten_grant),
    Lab("recreated-function-app", "Delete and recreate a Function App: a new identity, an orphaned grant",
        "A recreated resource gets a new system-assigned principal; grant it again (and clean up the orphan).",
        recreated_function_app),
    Lab("cloned-vm", "A cloned VM has the same definition but a different identity",
        "Cloning copies configuration, not identity: the clone needs its own grants.", cloned_vm),
    Lab("contributor-not-data-role", "Contributor on the vault's group still cannot read secrets",
        "Control-plane roles (Owner, Contributor) carry no data actions; use a data role.",
        contributor_not_data_role),
]
