"""ARM authorizes a managed identity's own calls with its roles (azure-wire.md §4.3, §5).

A VM's code gets a token for `https://management.azure.com` with `ManagedIdentityCredential` and
drives ARM through the unmodified `azure-mgmt-msi` client:

- no role -> 403 `AuthorizationFailed` with Azure's message naming the action and scope;
- Reader on the group -> get and list work, create is 403 (`.../write`);
- Contributor on the group -> create works;
- assigning a user-assigned identity from a group where the caller has no rights -> 403
  `LinkedAuthorizationFailed` (needs `.../userAssignedIdentities/*/assign/action`, e.g. Managed
  Identity Operator, on the identity); with that role the same PUT succeeds.
"""

from __future__ import annotations

import json
from typing import Any

from tests.conftest import API, Server
from tests.sdk.helpers import uami
from tests.sdk.keyvault_helpers import grant

MSI_CALLS = '''
import json, os
from azure.core.exceptions import HttpResponseError
from azure.identity import ManagedIdentityCredential
from azure.mgmt.msi import ManagedServiceIdentityClient
from azure.mgmt.msi.models import Identity

SUB, ARM, RG, EXISTING, NEW = {sub!r}, {arm!r}, {group!r}, {existing!r}, {new!r}
out = {{}}

def attempt(name, call):
    try:
        out[name] = {{"ok": call()}}
    except HttpResponseError as exc:
        out[name] = {{"status": exc.status_code, "code": exc.error.code if exc.error else None,
                     "message": exc.error.message if exc.error else str(exc)}}

with ManagedIdentityCredential() as cred, ManagedServiceIdentityClient(
        cred, SUB, base_url=ARM, credential_scopes=["https://management.azure.com/.default"],
        connection_verify=os.environ["REQUESTS_CA_BUNDLE"]) as client:
    ops = client.user_assigned_identities
    attempt("get", lambda: ops.get(RG, EXISTING).principal_id)
    attempt("list", lambda: sorted(i.name for i in ops.list_by_resource_group(RG)))
    attempt("create", lambda: ops.create_or_update(RG, NEW, Identity(location="eastus")).name)
print("RESULT", json.dumps(out))
'''

ASSIGN_UAMI = '''
import json, os
import httpx
from azure.identity import ManagedIdentityCredential

with ManagedIdentityCredential() as cred:
    token = cred.get_token("https://management.azure.com/.default").token
r = httpx.put({url!r}, params={{"api-version": {api!r}}}, headers={{"Authorization": "Bearer " + token}},
              json={{"location": "eastus", "identity": {{"type": "UserAssigned",
                                                         "userAssignedIdentities": {{{uami!r}: {{}}}}}}}},
              verify=os.environ["REQUESTS_CA_BUNDLE"])
print("RESULT", json.dumps({{"status": r.status_code, "body": r.json()}}))
'''


def result(server: Server, resource_id: str, code: str) -> Any:
    p = server.run_python(resource_id, code)
    assert p.returncode == 0, p.stderr[-3000:]
    lines = [ln for ln in p.stdout.splitlines() if ln.startswith("RESULT ")]
    assert len(lines) == 1, f"stdout={p.stdout!r} stderr={p.stderr[-3000:]!r}"
    return json.loads(lines[0][7:])


def test_vm_identity_calls_arm_with_its_own_roles(server: Server) -> None:
    group = server.new_group()
    vm = server.put("vm", group, "vm-automation", {"identity": {"type": "SystemAssigned"}}, expect=201)
    oid = vm["identity"]["principalId"]
    existing = uami(server, group, "id-existing")
    group_scope = f"/subscriptions/{server.sub}/resourceGroups/{group}"
    code = MSI_CALLS.format(sub=server.sub, arm=server.info["arm"], group=group, existing="id-existing",
                            new="id-made-by-vm")

    none = result(server, vm["id"], code)
    for call in ("get", "list", "create"):
        assert none[call]["status"] == 403, (call, none[call])
        assert none[call]["code"] == "AuthorizationFailed"
    assert none["get"]["message"].lower() == (
        f"The client '{oid}' with object id '{oid}' does not have authorization to perform action "
        f"'Microsoft.ManagedIdentity/userAssignedIdentities/read' over scope '{existing['id']}' or the scope is "
        "invalid. If access was recently granted, please refresh your credentials.").lower()
    assert ("does not have authorization to perform action 'Microsoft.ManagedIdentity/userAssignedIdentities/read'"
            in none["list"]["message"])
    assert ("does not have authorization to perform action 'Microsoft.ManagedIdentity/userAssignedIdentities/write'"
            in none["create"]["message"])

    grant(server, group_scope, "Reader", oid)
    reader = result(server, vm["id"], code)
    assert reader["get"] == {"ok": existing["properties"]["principalId"]}
    assert reader["list"] == {"ok": ["id-existing"]}
    assert reader["create"]["status"] == 403 and reader["create"]["code"] == "AuthorizationFailed"
    assert "'Microsoft.ManagedIdentity/userAssignedIdentities/write'" in reader["create"]["message"]

    grant(server, group_scope, "Contributor", oid)
    contributor = result(server, vm["id"], code)
    assert contributor["create"] == {"ok": "id-made-by-vm"}
    assert contributor["get"] == reader["get"]
    made = server.arm("GET", f"{group_scope}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/"
                      "id-made-by-vm", API["msi"], expect=200)
    assert made.json()["properties"]["principalId"]


def test_assigning_a_uami_needs_rights_on_the_uami(server: Server) -> None:
    group, other = server.new_group(), server.new_group()
    caller = server.put("vm", group, "vm-deployer", {"identity": {"type": "SystemAssigned"}}, expect=201)
    oid = caller["identity"]["principalId"]
    grant(server, f"/subscriptions/{server.sub}/resourceGroups/{group}", "Contributor", oid)
    foreign = uami(server, other, "id-elsewhere")
    target = f"{server.info['arm']}/subscriptions/{server.sub}/resourceGroups/{group}/providers/" \
             "Microsoft.Compute/virtualMachines/vm-target"
    code = ASSIGN_UAMI.format(url=target, api=API["vm"], uami=foreign["id"])

    denied = result(server, caller["id"], code)
    assert denied["status"] == 403, denied
    error = denied["body"]["error"]
    assert error["code"] == "LinkedAuthorizationFailed"
    assert (f"The client '{oid}' with object id '{oid}' has permission to perform action "
            "'Microsoft.Compute/virtualMachines/write' on scope") in error["message"]
    assert ("does not have permission to perform action(s) "
            "'Microsoft.ManagedIdentity/userAssignedIdentities/assign/action' on the linked scope(s) "
            f"'{foreign['id']}'").lower() in error["message"].lower()
    missing = server.arm("GET", f"/subscriptions/{server.sub}/resourceGroups/{group}/providers/"
                         "Microsoft.Compute/virtualMachines/vm-target", API["vm"])
    assert missing.status_code == 404, "a rejected PUT must not create the VM"

    grant(server, foreign["id"], "Managed Identity Operator", oid)
    allowed = result(server, caller["id"], code)
    assert allowed["status"] == 201, allowed
    assigned = allowed["body"]["identity"]["userAssignedIdentities"]
    assert [k.lower() for k in assigned] == [foreign["id"].lower()]
    assert list(assigned.values())[0]["principalId"] == foreign["properties"]["principalId"]
