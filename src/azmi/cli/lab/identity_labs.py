"""Labs on where a token comes from and whose it is: the Metadata header, IMDS only on the resource,
system-assigned vs user-assigned identities, the default identity, the 20-identities limit."""

from __future__ import annotations

from azmi.cli.errors import CliError
from azmi.cli.identity_ops import assign_patch, parse_identity_refs
from azmi.cli.lab.core import Lab, LabRun
from azmi.cli.lab.setup import curl_imds, identity_show, imds_url, principal_of, uami, vm, webapp
from azmi.cli.resource_commands import resource_path
from azmi.cli.resources import VM

WHOAMI = '''
from azure.identity import ManagedIdentityCredential
import base64, json
def oid(cred):
    t = cred.get_token("https://vault.azure.net/.default").token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(t + "=" * (-len(t) % 4)))["oid"]
out = {}
for label, kwargs in P["creds"]:
    with ManagedIdentityCredential(**kwargs) as cred:
        out[label] = oid(cred)
result(**out)
'''


def whoami(run: LabRun, rid: str, who: str, creds: list[tuple[str, dict[str, str]]]) -> dict[str, str]:
    """Run ManagedIdentityCredential(**kwargs).get_token(vault) on `rid` for each; the token's oid per label."""
    for label, kwargs in creds:
        args = ", ".join(f"{k}=\"{v}\"" for k, v in kwargs.items())
        run.say(f"on {who}: ManagedIdentityCredential({args}).get_token(\"https://vault.azure.net/.default\")")
    return {k: str(v) for k, v in run.python(rid, WHOAMI, creds=creds).items()}


def missing_metadata_header(run: LabRun) -> None:
    v = vm(run, "vm1")
    base = imds_url(run, v["id"])
    run.section("On vm1, without the header, then with it")
    run.say("(azmi serves vm1's IMDS at $AZURE_POD_IDENTITY_AUTHORITY_HOST; shown as 169.254.169.254)")
    bare = curl_imds(run, base, metadata=False)
    good = curl_imds(run, base)
    run.expect(bare.status_code == 400, f"without Metadata: expected 400, got {bare.status_code}")
    run.expect("metadata" in bare.text.lower(), "the 400 does not name the Metadata header")
    run.expect(good.status_code == 200 and "access_token" in good.json(), "with Metadata: true, no token")
    run.outcome("no header -> 400 'Required metadata header not specified'; `Metadata: true` -> a token.")


def outside_any_resource(run: LabRun) -> None:
    v = vm(run, "vm-no-identity", identities=None)
    base = imds_url(run, v["id"])
    imds_root = base.rsplit("/", 1)[0]
    run.section("From your laptop (not on any resource)")
    outside = curl_imds(run, imds_root)
    run.section("On vm-no-identity (a resource, but no identity enabled)")
    on_vm = curl_imds(run, base)
    for label, resp in (("outside", outside), ("on a VM without identity", on_vm)):
        run.expect(resp.status_code == 400, f"{label}: expected 400, got {resp.status_code}")
        run.expect("identity not found" in resp.text.lower(), f"{label}: expected 'Identity not found': {resp.text}")
    run.outcome("both 400 'Identity not found': IMDS answers only on a resource, for that resource's identity.")


def system_assigned_not_shareable(run: LabRun) -> None:
    vm(run, "vm1")
    vm(run, "vm2")
    p1 = identity_show(run, VM, "vm1").get("principalId")
    p2 = identity_show(run, VM, "vm2").get("principalId")
    run.say(f"vm1: {p1}")
    run.say(f"vm2: {p2}")
    run.expect(p1 and p2 and p1 != p2, "two VMs should have two different system-assigned principals")
    run.section("Try to give vm2 the identity of vm1")
    sys_id = f"{resource_path(run.sess, VM, run.rg, 'vm1')}/providers/Microsoft.ManagedIdentity/identities/default"
    run.cmd(f"azmi vm identity assign -g {run.rg} -n vm2 --identities {sys_id}")
    vm2_path = resource_path(run.sess, VM, run.rg, "vm2")
    before = run.arm.get(vm2_path, VM.api_version).get("identity")
    request = parse_identity_refs([sys_id], run.sub, run.rg)
    try:
        run.arm.patch(vm2_path, VM.api_version, assign_patch(before, request, VM.both_spelling))
        refused = ""
    except CliError as exc:
        refused = exc.format_message().splitlines()[0]
    run.error(refused) if refused else run.say("accepted")
    after = run.arm.get(vm2_path, VM.api_version).get("identity") or {}
    run.expect(refused, "attaching vm1's system-assigned identity to vm2 was accepted")
    run.expect(after.get("principalId") == p2 and not after.get("userAssignedIdentities"), "vm2's identity changed")
    run.say("--identities takes user-assigned identity ids ('[system]' means vm2's own system identity).")
    run.outcome("two VMs, two principals; vm1's system identity cannot be attached to vm2.")


def user_assigned_shared(run: LabRun) -> None:
    u = uami(run, "shared-id")
    props = u.get("properties") or {}
    v = vm(run, "vm1", [u["id"]])
    w = webapp(run, "web1", [u["id"]])
    client_id = str(props.get("clientId"))
    run.section("The same code on both, selecting the shared identity by client id")
    on_vm = whoami(run, v["id"], "vm1", [("oid", {"client_id": client_id})])["oid"]
    on_web = whoami(run, w["id"], "web1", [("oid", {"client_id": client_id})])["oid"]
    run.say(f"token oid on vm1:  {on_vm}")
    run.say(f"token oid on web1: {on_web}")
    run.expect(on_vm == on_web == props.get("principalId"), "the shared identity's tokens differ between resources")
    run.outcome(f"the same principal ({on_vm}) on a VM and a web app: one grant serves both.")


def both_identities_default(run: LabRun) -> None:
    u = uami(run, "app-id")
    v = vm(run, "vm1", ["[system]", u["id"]])
    system_pid = principal_of(v) or identity_show(run, VM, "vm1").get("principalId")
    client_id = str(u["properties"]["clientId"])
    run.section("On vm1: no argument, then client_id of the user-assigned identity")
    got = whoami(run, v["id"], "vm1", [("default", {}), ("selected", {"client_id": client_id})])
    run.say(f"default  -> oid {got['default']}  (system-assigned: {system_pid})")
    run.say(f"client_id -> oid {got['selected']}  (app-id: {u['properties']['principalId']})")
    run.expect(got["default"] == system_pid, "without client_id the token is not the system-assigned identity's")
    run.expect(got["selected"] == u["properties"]["principalId"], "client_id did not select the user-assigned one")
    run.outcome("system-assigned by default; client_id picks the user-assigned identity.")


def twenty_identities_limit(run: LabRun) -> None:
    run.cmd(f"for i in $(seq 1 21); do azmi identity create -g {run.rg} -n id$i; done")
    ids = [str(uami(run, f"id{i}", quiet=True)["id"]) for i in range(1, 22)]
    v = vm(run, "vm1", ids[:20])
    run.expect(len((v.get("identity") or {}).get("userAssignedIdentities") or {}) == 20, "vm1 should hold 20")
    run.section("The 21st")
    run.cmd(f"azmi vm identity assign -g {run.rg} -n vm1 --identities id21")
    path = resource_path(run.sess, VM, run.rg, "vm1")
    request = parse_identity_refs([ids[20]], run.sub, run.rg)
    try:
        run.arm.patch(path, VM.api_version, assign_patch(v.get("identity"), request, VM.both_spelling))
        refused = ""
    except CliError as exc:
        refused = exc.format_message().splitlines()[0]
    run.error(refused) if refused else run.say("accepted")
    now = (run.arm.get(path, VM.api_version).get("identity") or {}).get("userAssignedIdentities") or {}
    run.expect(refused, "a 21st user-assigned identity was accepted")
    run.expect(len(now) == 20 and ids[20].lower() not in {k.lower() for k in now}, "the refusal changed vm1")
    run.outcome("20 attach; the 21st is refused and vm1 keeps its 20.")


LABS = [
    Lab("missing-metadata-header", "IMDS refuses a token request without `Metadata: true`",
        "Every IMDS request needs the header `Metadata: true`; without it: 400.", missing_metadata_header),
    Lab("outside-any-resource", "IMDS from outside any resource (or without an identity) finds no identity",
        "IMDS only answers on the resource, for the identity that resource has.", outside_any_resource),
    Lab("system-assigned-not-shareable", "A system-assigned identity belongs to one resource",
        "System-assigned = one per resource, never shared; share with a user-assigned identity.",
        system_assigned_not_shareable),
    Lab("user-assigned-shared", "One user-assigned identity on a VM and a web app",
        "A user-assigned identity is its own resource: attach it anywhere, it is the same principal.",
        user_assigned_shared),
    Lab("both-identities-default", "System and user-assigned on one VM: which one signs in?",
        "With both, the SDK uses the system-assigned identity unless you pass client_id.", both_identities_default),
    Lab("twenty-identities-limit", "At most 20 user-assigned identities per resource",
        "A resource holds at most 20 user-assigned identities; the 21st is refused.", twenty_identities_limit),
]
