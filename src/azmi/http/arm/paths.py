"""ARM path matching: keywords compare case-insensitively, names keep their casing."""

from __future__ import annotations

from dataclasses import dataclass, field

from azmi.ids import ResourceId, is_guid


@dataclass(frozen=True)
class Match:
    kind: str
    sub: str = ""
    group: str = ""
    namespace: str = ""
    type: str = ""
    name: str = ""
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def resource_id(self) -> ResourceId:
        return ResourceId(self.sub.lower(), self.group, self.namespace, self.type, self.name)


AUTHZ_MARKER = "/providers/microsoft.authorization/"
AUTHZ_KINDS = {"roleassignments": "role_assignment", "roledefinitions": "role_definition"}


def match_authorization(path: str) -> Match | None:
    """`{scope}/providers/Microsoft.Authorization/{roleAssignments|roleDefinitions}[/{name}]`."""
    i = path.lower().find(AUTHZ_MARKER)
    if i < 0:
        return None
    rest = [p for p in path[i + len(AUTHZ_MARKER):].split("/") if p]
    if not rest or rest[0].lower() not in AUTHZ_KINDS or len(rest) > 2:
        return None
    kind = AUTHZ_KINDS[rest[0].lower()]
    scope = path[:i] or "/"
    if len(rest) == 1:
        return Match(kind + "s", extra={"scope": scope})
    return Match(kind, name=rest[1], extra={"scope": scope})


def match(path: str) -> Match | None:
    authz = match_authorization(path)
    if authz is not None:
        return authz
    seg = [s for s in path.split("/") if s != ""]
    low = [s.lower() for s in seg]
    n = len(seg)
    if low == ["azmi", "environment"]:
        return Match("environment")
    if n == 3 and low[:2] == ["azmi", "principals"]:
        return Match("principal", name=seg[2])
    if low == ["azmi", "stats"]:
        return Match("stats")
    if low == ["azmi", "faults"]:
        return Match("faults")
    if low == ["azmi", "faults", "clockskew"]:
        return Match("clock_skew")
    if low == ["azmi", "clock"]:
        return Match("clock")
    if low == ["azmi", "keys"]:
        return Match("keys")
    if low == ["azmi", "keys", "rotate"]:
        return Match("rotate_keys")
    if low[:3] == ["providers", "microsoft.subscription", "aliases"] and n in (3, 4):
        return Match("alias", name=seg[3]) if n == 4 else Match("aliases")
    if n == 0 or low[0] != "subscriptions":
        return None
    if n == 1:
        return Match("subscriptions")
    sub = seg[1]
    if not is_guid(sub):
        return Match("bad_subscription", sub=sub)
    if n == 2:
        return Match("subscription", sub=sub)
    if n == 3 and low[2] == "resourcegroups":
        return Match("groups", sub=sub)
    if n == 3 and low[2] == "resources":
        return Match("resources", sub=sub)
    if n == 5 and low[2] == "providers":
        return Match("list_by_sub", sub=sub, namespace=seg[3], type=seg[4])
    if n < 4 or low[2] != "resourcegroups":
        return None
    group = seg[3]
    if n == 4:
        return Match("group", sub=sub, group=group)
    if n == 5 and low[4] == "resources":
        return Match("resources", sub=sub, group=group)
    if low[4] != "providers" or n < 7:
        return None
    ns, typ = seg[5], seg[6]
    if n == 7:
        return Match("list_by_group", sub=sub, group=group, namespace=ns, type=typ)
    if n == 8:
        return Match("resource", sub=sub, group=group, namespace=ns, type=typ, name=seg[7])
    if n == 10 and low[8] == "accesspolicies" and f"{low[5]}/{low[6]}" == "microsoft.keyvault/vaults":
        return Match("access_policy", sub=sub, group=group, namespace=ns, type=typ, name=seg[7],
                     extra={"operation": seg[9]})
    if n == 9 and low[8] == "listkeys" and f"{low[5]}/{low[6]}" == "microsoft.storage/storageaccounts":
        return Match("list_keys", sub=sub, group=group, namespace=ns, type=typ, name=seg[7])
    if n == 12 and low[8:] == ["providers", "microsoft.managedidentity", "identities", "default"]:
        return Match("system_identity", sub=sub, group=group, namespace=ns, type=typ, name=seg[7])
    return None
