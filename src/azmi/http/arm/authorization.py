"""`Microsoft.Authorization` on ARM: role assignments and role definitions (azure-wire.md §4.3-4.4)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from azmi.domain.rbac import Assignment
from azmi.domain.roles import RoleDefinition
from azmi.errors import InvalidInput
from azmi.ids import parse_scope

AUTHZ_VERSIONS = ("2015-07-01", "2017-05-01", "2018-01-01-preview", "2018-07-01", "2018-09-01-preview",
                  "2020-03-01-preview", "2020-04-01-preview", "2020-08-01-preview", "2020-10-01-preview",
                  "2021-04-01-preview", "2022-01-01-preview", "2022-04-01", "2022-05-01-preview")


def check_version(version: str) -> None:
    if version not in AUTHZ_VERSIONS:
        raise InvalidInput(f"The api-version '{version}' is invalid. The supported versions are "
                           f"'{','.join(reversed(AUTHZ_VERSIONS))}'.", code="InvalidApiVersionParameter")


def _iso(t: float) -> str:
    return dt.datetime.fromtimestamp(t, dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def role_definition_id(role_guid: str, scope: str) -> str:
    sub = parse_scope(scope).subscription
    prefix = f"/subscriptions/{sub}" if sub else ""
    return f"{prefix}/providers/Microsoft.Authorization/roleDefinitions/{role_guid}"


def assignment(a: Assignment) -> dict[str, Any]:
    return {"properties": {"roleDefinitionId": role_definition_id(a.role_definition_id, a.scope),
                           "principalId": a.principal_id, "principalType": a.principal_type, "scope": a.scope,
                           "condition": None, "conditionVersion": None, "createdOn": _iso(a.created_on),
                           "updatedOn": _iso(a.created_on), "createdBy": a.created_by, "updatedBy": a.created_by,
                           "delegatedManagedIdentityResourceId": None, "description": a.description},
            "id": a.id, "type": "Microsoft.Authorization/roleAssignments", "name": a.name}


def role_definition(r: RoleDefinition, scope: str) -> dict[str, Any]:
    return {"id": role_definition_id(r.id, scope), "name": r.id, "type": "Microsoft.Authorization/roleDefinitions",
            "properties": {"roleName": r.name, "type": "BuiltInRole" if r.built_in else "CustomRole",
                           "description": r.description, "assignableScopes": list(r.assignable_scopes),
                           "permissions": [{"actions": list(p.actions), "notActions": list(p.not_actions),
                                            "dataActions": list(p.data_actions),
                                            "notDataActions": list(p.not_data_actions)} for p in r.permissions],
                           "createdOn": None, "updatedOn": None, "createdBy": None, "updatedBy": None}}


def handle(svc: Any, caller: Any, method: str, m: Any, version: str, body: Any,
           query: dict[str, str]) -> tuple[int, Any]:
    check_version(version)
    roles = svc.roles
    scope = parse_scope(m.extra["scope"]).text
    what = "roleAssignments" if m.kind.startswith("role_assignment") else "roleDefinitions"
    verb = {"GET": "read", "PUT": "write", "DELETE": "delete"}[method]
    if not (what == "roleDefinitions" and verb == "read" and scope == "/"):  # built-ins are readable by anyone
        caller.require(f"Microsoft.Authorization/{what}/{verb}", scope)
    if m.kind == "role_assignments":
        return 200, {"value": [assignment(a) for a in roles.list_assignments(scope, query.get("$filter"))]}
    if m.kind == "role_definitions":
        return 200, {"value": [role_definition(r, scope) for r in roles.list_roles(scope, query.get("$filter"))]}
    if m.kind == "role_assignment":
        if method == "PUT":
            a, created = roles.create_assignment(scope, m.name, body, caller.object_id)
            return (201 if created else 200), assignment(a)
        if method == "DELETE":
            gone = roles.delete_assignment(scope, m.name)
            return (200, assignment(gone)) if gone else (204, None)
        return 200, assignment(roles.get_assignment(scope, m.name))
    if method == "PUT":
        r, created = roles.put_role(scope, m.name, body)
        return (201 if created else 200), role_definition(r, scope)
    if method == "DELETE":
        gone_role = roles.delete_role(m.name)
        return (200, role_definition(gone_role, scope)) if gone_role else (204, None)
    return 200, role_definition(roles.get_role(m.name), scope)
