"""Pure rules of `az role assignment|definition`, after azure-cli's `role/custom.py`.

- scope: `--scope`, else `-g`'s group, else the subscription (`_build_role_scope`);
- `--role`: a full role definition id, a GUID (made subscription-qualified) or a name looked up
  with `$filter=roleName eq '...'` (`_resolve_role_id`);
- listing keeps assignments at exactly the scope, or also those above it with
  `--include-inherited` (`_search_role_assignments`);
- az shows SDK models: `properties` flattened (a definition's `properties.type` is `roleType`);
- `role definition create` takes az's JSON (`Name`, `Actions`, ...; any first-letter case).
"""

from __future__ import annotations

import json
import os
import re
import uuid
from collections import OrderedDict
from typing import Any

from azmi.cli.client import is_guid
from azmi.cli.errors import CliError
from azmi.cli.resources import az_view

AUTHZ_API = "2022-04-01"
AUTHZ = "/providers/Microsoft.Authorization"
_FULL_ROLE_ID = re.compile(r"^(/subscriptions/[^/]+)?/providers/Microsoft\.Authorization/roleDefinitions/[^/]+$",
                           re.IGNORECASE)


def build_scope(sub: str, resource_group: str | None, scope: str | None) -> str:
    if scope:
        return scope.rstrip("/") or "/"
    if resource_group:
        return f"/subscriptions/{sub}/resourceGroups/{resource_group}"
    return f"/subscriptions/{sub}"


def collection(scope: str, what: str) -> str:
    """`{scope}/providers/Microsoft.Authorization/{roleAssignments|roleDefinitions}`."""
    return f"{scope.rstrip('/')}{AUTHZ}/{what}"


def last_segment(resource_id: str) -> str:
    return resource_id.rstrip("/").rsplit("/", 1)[-1].lower()


def role_id_without_lookup(role: str, sub: str) -> str | None:
    """The role definition id `--role` names when it is an id or a GUID; None for a role name."""
    if _FULL_ROLE_ID.match(role):
        return role
    if is_guid(role):
        return f"/subscriptions/{sub}{AUTHZ}/roleDefinitions/{role.lower()}"
    return None


def pick_role(role: str, definitions: list[dict[str, Any]]) -> str:
    """The id of the one definition a `roleName eq` filter returned (az's wording otherwise)."""
    if not definitions:
        raise CliError(f"Role '{role}' doesn't exist.")
    if len(definitions) > 1:
        ids = [d.get("id") for d in definitions]
        raise CliError(f"More than one role matches the given name '{role}'. Please pick a value from '{ids}'")
    return str(definitions[0]["id"])


def same_role(a: str, b: str) -> bool:
    return last_segment(a) == last_segment(b)


def covers(outer: str, inner: str) -> bool:
    """Whether scope `outer` is `inner` or above it (az: `re.match(outer, inner, re.I)`)."""
    o, i = outer.rstrip("/").lower(), inner.rstrip("/").lower()
    return o == "" or i == o or i.startswith(o + "/")


def keep_assignment(assignment: dict[str, Any], scope: str | None, include_inherited: bool) -> bool:
    a_scope = str((assignment.get("properties") or {}).get("scope") or "")
    if scope is None:
        return True
    if include_inherited:
        return covers(a_scope, scope)
    return a_scope.rstrip("/").lower() == scope.rstrip("/").lower()


def enrich_assignments(rows: list[dict[str, Any]], definitions: list[dict[str, Any]],
                       names: dict[str, str]) -> list[dict[str, Any]]:
    """az's `fill_role_definition_name` / `fill_principal_name`: `principalName` is "" for a
    principal the directory no longer has (an orphaned assignment)."""
    role_names = {last_segment(str(d.get("id", ""))): (d.get("properties") or {}).get("roleName") for d in definitions}
    for row in rows:
        role_name = role_names.get(last_segment(str(row.get("roleDefinitionId") or "")))
        if role_name:
            row["roleDefinitionName"] = role_name
        row["principalName"] = names.get(str(row.get("principalId") or "").lower(), "")
    return rows


def transform_assignment_list(result: Any) -> Any:
    """az's table: Principal, Role, Scope."""
    rows = result if isinstance(result, list) else [result]
    return [OrderedDict([("Principal", r.get("principalName")), ("Role", r.get("roleDefinitionName")),
                         ("Scope", r.get("scope"))]) for r in rows]


def definition_view(definition: dict[str, Any]) -> dict[str, Any]:
    """A role definition as az prints it: properties flattened, `properties.type` as `roleType`."""
    props = dict(definition.get("properties") or {})
    if "type" in props:
        props["roleType"] = props.pop("type")
    return az_view({**definition, "properties": props})


def filter_definitions(definitions: list[dict[str, Any]], name: str | None,
                       custom_only: bool) -> list[dict[str, Any]]:
    """az's `_search_role_definitions`: match `name` (GUID) or `roleName`; `--custom-role-only`."""
    out = definitions
    if name:
        low = name.lower()
        out = [d for d in out if str(d.get("name", "")).lower() == low
               or str((d.get("properties") or {}).get("roleName", "")).lower() == low]
    if custom_only:
        out = [d for d in out if (d.get("properties") or {}).get("type") == "CustomRole"]
    return out


def load_json_argument(value: str) -> Any:
    """az's JSON arguments: a path to a file, `@path`, or inline JSON."""
    text = value
    path = value[1:] if value.startswith("@") else value
    if value.startswith("@") or os.path.exists(path):
        try:
            with open(os.path.expanduser(path), encoding="utf-8-sig") as fh:
                text = fh.read()
        except OSError as exc:
            raise CliError(f"cannot read {path}: {exc}") from exc
    try:
        return json.loads(text)
    except ValueError as exc:
        raise CliError(f"Failed to parse string as JSON:\n{text}\nThe error is: {exc}") from exc


def role_definition_request(definition: Any) -> tuple[str, dict[str, Any]]:
    """(scope to PUT at, wire body) for az's role-definition JSON (`Name`, `Description`,
    `Actions`, `NotActions`, `DataActions`, `NotDataActions`, `AssignableScopes`)."""
    if not isinstance(definition, dict):
        raise CliError("Invalid role definition. A valid dictionary JSON representation is expected.")
    camel = {(k[:1].lower() + k[1:]): v for k, v in definition.items()}
    role_name = camel.get("name") or camel.get("roleName")
    if not role_name:
        raise CliError("please provide role name")
    scopes = camel.get("assignableScopes")
    if not scopes:
        raise CliError("please provide 'assignableScopes'")
    permission = {key: list(camel.get(key) or []) for key in ("actions", "notActions", "dataActions",
                                                             "notDataActions")}
    body = {"properties": {"roleName": role_name, "description": camel.get("description"), "type": "CustomRole",
                           "permissions": [permission], "assignableScopes": list(scopes)}}
    return str(scopes[0]), body


def new_guid() -> str:
    return str(uuid.uuid4())
