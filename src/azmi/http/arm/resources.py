"""Resource Manager proper: subscriptions, aliases, groups, resources, system identities.

Each operation is authorized with the action Azure checks (`{namespace}/{type}/read|write|delete`,
`Microsoft.Resources/subscriptions/resourceGroups/...`) at the resource's scope; lists show only
what the caller may read, as ARM does. Assigning a user-assigned identity also needs
`Microsoft.ManagedIdentity/userAssignedIdentities/assign/action` on it (LinkedAuthorizationFailed).
"""

from __future__ import annotations

from typing import Any

from azmi import errors as e
from azmi.domain import resource_types
from azmi.http.arm import render
from azmi.http.arm.paths import Match
from azmi.ids import ResourceId, group_id

RESOURCES_VERSIONS = ("2014-04-01", "2015-01-01", "2015-11-01", "2016-02-01", "2016-06-01", "2016-09-01",
                      "2017-05-10", "2018-02-01", "2018-05-01", "2019-05-01", "2019-05-10", "2019-06-01",
                      "2019-07-01", "2019-08-01", "2019-10-01", "2020-01-01", "2020-06-01", "2020-08-01",
                      "2020-10-01", "2021-01-01", "2021-04-01", "2022-01-01", "2022-09-01", "2022-12-01",
                      "2023-07-01", "2024-03-01", "2024-07-01", "2024-11-01", "2025-03-01", "2025-04-01")
ALIAS_VERSIONS = ("2020-09-01", "2021-10-01", "2024-08-01-preview")
MSI_VERSIONS = resource_types.lookup("Microsoft.ManagedIdentity", "userAssignedIdentities").api_versions
GROUP_ACTION = "Microsoft.Resources/subscriptions/resourceGroups"
VERBS = {"GET": "read", "HEAD": "read", "PUT": "write", "PATCH": "write", "DELETE": "delete"}
ASSIGN = "Microsoft.ManagedIdentity/userAssignedIdentities/assign/action"


def check_version(version: str, allowed: tuple[str, ...]) -> None:
    if version not in allowed:
        raise e.InvalidInput(f"The api-version '{version}' is invalid. The supported versions are "
                             f"'{','.join(reversed(allowed))}'.", code="InvalidApiVersionParameter")


def handle(svc: Any, caller: Any, method: str, m: Match, version: str, body: Any) -> tuple[int, Any]:
    control, tenant = svc.control, svc.settings.tenant_id
    verb = VERBS.get(method, "read")
    if m.kind in ("alias", "aliases"):
        caller.require_operator()
        check_version(version, ALIAS_VERSIONS)
        if m.kind == "aliases":
            return 200, {"value": [render.alias(s) for s in control.list_subscriptions() if s.alias]}
        if method == "PUT":
            props = body.get("properties") if isinstance(body.get("properties"), dict) else {}
            s, created = control.create_subscription(m.name, props.get("displayName", m.name))
            svc.roles.grant_owner(caller.object_id, f"/subscriptions/{s.id}")
            return (201 if created else 200), render.alias(s)
        return 200, render.alias(control.get_alias(m.name))
    if m.kind == "bad_subscription":
        raise e.InvalidInput(f"The provided subscription identifier '{m.sub}' is malformed or invalid.",
                             code="InvalidSubscriptionId")
    if m.kind in ("subscriptions", "subscription", "groups", "group", "resources"):
        check_version(version, RESOURCES_VERSIONS)
    if m.sub:
        control.get_subscription(m.sub)  # 404 SubscriptionNotFound before any authorization decision
    if m.kind == "subscriptions":
        return 200, {"value": [render.subscription(s) for s in control.list_subscriptions()
                               if caller.can("Microsoft.Resources/subscriptions/read", f"/subscriptions/{s.id}")]}
    if m.kind == "subscription":
        sub = control.get_subscription(m.sub)
        caller.require("Microsoft.Resources/subscriptions/read", f"/subscriptions/{sub.id}")
        return 200, render.subscription(sub)
    if m.kind == "groups":
        groups = control.list_groups(m.sub)
        return 200, {"value": [render.group(g) for g in groups if caller.can(f"{GROUP_ACTION}/read", g.id)]}
    if m.kind == "group":
        return _group(svc, caller, method, m, body)
    if m.kind == "resources":
        items = control.list_resources(m.sub, m.group or None)
        return 200, {"value": [render.resource(r, tenant, version) for r in items
                               if caller.can(f"{r.id.full_type}/read", str(r.id))]}
    rtype = resource_types.lookup(m.namespace, m.type)
    if m.kind == "system_identity":
        check_version(version, MSI_VERSIONS)
        caller.require("Microsoft.ManagedIdentity/identities/read", str(m.resource_id))
        r, p = control.system_identity(str(m.resource_id))
        return 200, render.system_identity(r, p, tenant)
    rtype.check_api_version(version)
    if m.kind == "access_policy":
        caller.require("Microsoft.KeyVault/vaults/accessPolicies/write", str(m.resource_id))
        r = control.update_access_policies(m.resource_id, m.extra["operation"].lower(), body)
        return 200, {"id": f"{r.id}/accessPolicies/{m.extra['operation'].lower()}",
                     "type": "Microsoft.KeyVault/vaults/accessPolicies", "location": r.location,
                     "properties": {"accessPolicies": r.properties.get("accessPolicies", [])}}
    if m.kind == "list_keys":
        caller.require("Microsoft.Storage/storageAccounts/listkeys/action", str(m.resource_id))
        return 200, control.storage_keys(m.resource_id)
    if m.kind in ("list_by_sub", "list_by_group"):
        items = control.list_resources(m.sub, m.group or None, rtype.full)
        read = f"{rtype.full}/read"
        scope = group_id(m.sub.lower(), m.group) if m.group else f"/subscriptions/{m.sub.lower()}"
        visible = [r for r in items if caller.can(read, str(r.id))]
        if not visible and not caller.can(read, scope):
            caller.require(read, scope)  # ARM: no read at or below the list's scope is 403, not an empty list
        return 200, {"value": [render.resource(r, tenant, version) for r in visible]}
    rid = ResourceId(m.sub.lower(), m.group, rtype.namespace, rtype.type, m.name)
    action = f"{rtype.full}/{verb}"
    caller.require(action, str(rid))
    if method in ("PUT", "PATCH"):
        def authorize_link(uami: ResourceId) -> None:
            caller.require_linked(ASSIGN, str(uami), action, str(rid))

        r, created = control.put_resource(rid, body, patch=method == "PATCH", authorize_link=authorize_link)
        return (201 if created else 200), render.resource(r, tenant, version)
    if method == "DELETE":
        return (200 if control.delete_resource(rid) else 204), None
    return 200, render.resource(control.get_resource(rid), tenant, version)


def _group(svc: Any, caller: Any, method: str, m: Match, body: Any) -> tuple[int, Any]:
    control = svc.control
    caller.require(f"{GROUP_ACTION}/{VERBS[method]}", group_id(m.sub.lower(), m.group))
    if method in ("PUT", "PATCH"):
        if method == "PATCH":
            current = control.get_group(m.sub, m.group)
            body = {"location": current.location, "tags": body.get("tags", current.tags)}
        g, created = control.put_group(m.sub, m.group, body)
        return (201 if created else 200), render.group(g)
    if method == "DELETE":
        return (200 if control.delete_group(m.sub, m.group) else 204), None
    if method == "HEAD":
        control.get_group(m.sub, m.group)
        return 204, None
    return 200, render.group(control.get_group(m.sub, m.group))
