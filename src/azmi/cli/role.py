"""`azmi role`: role assignments and role definitions, as `az role` (Microsoft.Authorization
2022-04-01). The rules are in `role_ops.py`; principals are looked up through `ad.py`.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

import click

from azmi.cli.ad import displayable_name, find_principal, resolve_assignee
from azmi.cli.client import is_guid
from azmi.cli.common import az_command, confirm, rg_option, yes_option
from azmi.cli.context import Session
from azmi.cli.errors import CliError
from azmi.cli.resources import az_view
from azmi.cli.role_ops import (AUTHZ_API, build_scope, collection, definition_view, enrich_assignments,
                               filter_definitions, keep_assignment, load_json_argument, new_guid, pick_role,
                               role_definition_request, role_id_without_lookup, same_role,
                               transform_assignment_list)

PRINCIPAL_TYPES = ("User", "Group", "ServicePrincipal", "ForeignGroup", "Device")


def scope_option() -> Any:
    return click.option("--scope", help="Scope at which the role assignment or definition applies to, e.g. "
                                        "/subscriptions/0b1f6471-1bf0-4dda-aec3-111122223333/resourceGroups/myGroup.")


def subscription_scope(sess: Session) -> str:
    return f"/subscriptions/{sess.subscription_id}"


def resolve_role(sess: Session, role: str, scope: str) -> str:
    """The role definition id of `--role` (a name is looked up at `scope`)."""
    found = role_id_without_lookup(role, sess.subscription_id)
    if found:
        return found
    definitions = sess.arm().list(collection(scope, "roleDefinitions"), AUTHZ_API,
                                  params={"$filter": f"roleName eq '{role}'"})
    return pick_role(role, definitions)


def search_assignments(sess: Session, scope: str | None, object_id: str | None, role: str | None,
                       include_inherited: bool) -> list[dict[str, Any]]:
    """az's `_search_role_assignments` (scope None: the whole subscription)."""
    params = {"$filter": f"principalId eq '{object_id}'"} if object_id else {}
    if scope and not object_id:
        params = {"$filter": "atScope()"}
    found = sess.arm().list(collection(scope or subscription_scope(sess), "roleAssignments"), AUTHZ_API,
                            params=params)
    found = [a for a in found if keep_assignment(a, scope, include_inherited)]
    if role:
        role_id = resolve_role(sess, role, scope or subscription_scope(sess))
        found = [a for a in found if same_role(str((a.get("properties") or {}).get("roleDefinitionId")), role_id)]
    return found


def principal_names(sess: Session, rows: list[dict[str, Any]]) -> dict[str, str]:
    names: dict[str, str] = {}
    for pid in {str(r.get("principalId") or "").lower() for r in rows} - {""}:
        found = find_principal(sess, pid)
        names[pid] = displayable_name(found) if found else ""
    return names


def put_assignment(sess: Session, scope: str, role_id: str, object_id: str, principal_type: str | None,
                   description: str | None = None, name: str | None = None) -> dict[str, Any]:
    props: dict[str, Any] = {"roleDefinitionId": role_id, "principalId": object_id}
    if principal_type:
        props["principalType"] = principal_type
    if description:
        props["description"] = description
    path = f"{collection(scope, 'roleAssignments')}/{name or new_guid()}"
    return dict(sess.arm().put(path, AUTHZ_API, {"properties": props}))


def grant_identity(sess: Session, principal_id: str, role: str | None, scope: str | None) -> None:
    """`identity assign --role R --scope S`: give the system-assigned identity a role (az needs both)."""
    if not role or not scope:
        raise CliError("usage error: please specify both --role and --scope when assigning a role to the "
                       "managed identity")
    scope = build_scope(sess.subscription_id, None, scope)
    try:
        put_assignment(sess, scope, resolve_role(sess, role, scope), principal_id, "ServicePrincipal")
    except CliError as exc:
        if exc.code != "RoleAssignmentExists":
            raise


@click.group("role", help="Manage Azure role-based access control (Azure RBAC).")
def role() -> None:
    pass


@click.group("assignment", help="Manage role assignments.")
def assignment() -> None:
    pass


@click.group("definition", help="Manage role definitions.")
def definition() -> None:
    pass


role.add_command(assignment)
role.add_command(definition)


@az_command(assignment, "create", help="Create a new role assignment for a user, group, or service principal.")
@click.option("--role", required=True, help="Role name or id.")
@click.option("--assignee", help="Represent a user, group, or service principal: object id or app id.")
@click.option("--assignee-object-id", help="Use this parameter instead of '--assignee' to bypass Graph API "
                                           "invocation. Must be an object id.")
@click.option("--assignee-principal-type", type=click.Choice(PRINCIPAL_TYPES), help="Use with --assignee-object-id.")
@scope_option()
@rg_option(required=False)
@click.option("--description", help="Description of role assignment.")
@click.option("--name", "assignment_name", help="A GUID for the role assignment. Default: a new GUID.")
def assignment_create(sess: Session, role: str, assignee: str | None, assignee_object_id: str | None,
                      assignee_principal_type: str | None, scope: str | None, resource_group: str | None,
                      description: str | None, assignment_name: str | None) -> Any:
    if bool(assignee) == bool(assignee_object_id):
        raise CliError("usage error: --assignee STRING | --assignee-object-id GUID")
    if assignee_principal_type and not assignee_object_id:
        raise CliError("usage error: --assignee-object-id GUID --assignee-principal-type TYPE")
    if not scope and not resource_group:
        raise click.UsageError("the following arguments are required: --scope")
    scope = build_scope(sess.subscription_id, resource_group, scope)
    role_id = resolve_role(sess, role, scope)
    if assignee:
        object_id, principal_type = resolve_assignee(sess, assignee, fallback_to_object_id=False)
    else:
        object_id, principal_type = str(assignee_object_id), assignee_principal_type
    try:
        return az_view(put_assignment(sess, scope, role_id, object_id, principal_type, description, assignment_name))
    except CliError as exc:
        if exc.code != "RoleAssignmentExists":
            raise
        existing = search_assignments(sess, scope, object_id, role_id, include_inherited=False)
        if not existing:
            raise
        return az_view(existing[0])  # az: creating an existing assignment returns it


@az_command(assignment, "list", table=transform_assignment_list, help="List role assignments.")
@click.option("--assignee", help="Represent a user, group, or service principal: object id or app id.")
@click.option("--role", help="Role name or id.")
@scope_option()
@rg_option(required=False)
@click.option("--all", "show_all", is_flag=True, help="Show all assignments under the current subscription.")
@click.option("--include-inherited", is_flag=True, help="Include assignments applied on parent scopes.")
@click.option("--include-groups", is_flag=True, hidden=True)
def assignment_list(sess: Session, assignee: str | None, role: str | None, scope: str | None,
                    resource_group: str | None, show_all: bool, include_inherited: bool,
                    include_groups: bool) -> Any:
    if show_all and (resource_group or scope):
        raise CliError("group or scope are not required when --all is used")
    shown_scope = None if show_all else build_scope(sess.subscription_id, resource_group, scope)
    object_id = resolve_assignee(sess, assignee, fallback_to_object_id=True)[0] if assignee else None
    rows = [az_view(a) for a in search_assignments(sess, shown_scope, object_id, role, include_inherited)]
    if not rows:
        return []
    definitions = sess.arm().list(collection(shown_scope or subscription_scope(sess), "roleDefinitions"), AUTHZ_API)
    return enrich_assignments(rows, definitions, principal_names(sess, rows))


@az_command(assignment, "delete", help="Delete role assignments.")
@click.option("--ids", multiple=True, help="Space-separated role assignment ids.")
@click.option("--assignee", help="Represent a user, group, or service principal: object id or app id.")
@click.option("--role", help="Role name or id.")
@scope_option()
@rg_option(required=False)
@click.option("--include-inherited", is_flag=True, help="Include assignments applied on parent scopes.")
@yes_option()
def assignment_delete(sess: Session, ids: tuple[str, ...], assignee: str | None, role: str | None,
                      scope: str | None, resource_group: str | None, include_inherited: bool, yes: bool) -> None:
    arm = sess.arm()
    if ids:
        if assignee or role or resource_group or scope or include_inherited:
            raise CliError("When assignment ids are used, other parameter values are not required")
        for assignment_id in ids:
            arm.request("DELETE", assignment_id, AUTHZ_API)
        return
    if not any((assignee, role, resource_group, scope)):
        confirm(yes)  # az: "This will delete all role assignments under the subscription. Are you sure?"
    scope = build_scope(sess.subscription_id, resource_group, scope)
    object_id = resolve_assignee(sess, assignee, fallback_to_object_id=True)[0] if assignee else None
    found = search_assignments(sess, scope, object_id, role, include_inherited)
    if not found:
        raise CliError("No matched assignments were found to delete")
    for a in found:
        arm.request("DELETE", str(a["id"]), AUTHZ_API)


def transform_definition_list(result: Any) -> Any:
    rows = result if isinstance(result, list) else [result]
    return [OrderedDict([("Name", r.get("roleName")), ("Type", r.get("type")),
                         ("Description", r.get("description"))]) for r in rows]


def list_definitions(sess: Session, scope: str, name: str | None, custom_only: bool) -> list[dict[str, Any]]:
    params = {"$filter": f"roleName eq '{name}'"} if name and not is_guid(name) else None
    found = sess.arm().list(collection(scope, "roleDefinitions"), AUTHZ_API, params=params)
    return filter_definitions(found, name, custom_only)


@az_command(definition, "list", table=transform_definition_list, help="List role definitions.")
@click.option("-n", "--name", help="A role's name or GUID.")
@click.option("--custom-role-only", is_flag=True, help="Custom roles only (vs. built-in ones).")
@scope_option()
@rg_option(required=False)
def definition_list(sess: Session, name: str | None, custom_role_only: bool, scope: str | None,
                    resource_group: str | None) -> Any:
    scope = build_scope(sess.subscription_id, resource_group, scope)
    return [definition_view(d) for d in list_definitions(sess, scope, name, custom_role_only)]


@az_command(definition, "create", help="Create a custom role definition.")
@click.option("--role-definition", required=True,
              help="Description of a role as JSON, or a path to a file containing a JSON description.")
def definition_create(sess: Session, role_definition: str) -> Any:
    scope, body = role_definition_request(load_json_argument(role_definition))
    path = f"{collection(scope, 'roleDefinitions')}/{new_guid()}"
    return definition_view(sess.arm().put(path, AUTHZ_API, body))


@az_command(definition, "delete", help="Delete a role definition.")
@click.option("-n", "--name", required=True, help="The role's name or id.")
@click.option("--custom-role-only", is_flag=True, help="Custom roles only (vs. built-in ones).")
@scope_option()
@rg_option(required=False)
def definition_delete(sess: Session, name: str, custom_role_only: bool, scope: str | None,
                      resource_group: str | None) -> None:
    scope = build_scope(sess.subscription_id, resource_group, scope)
    found = list_definitions(sess, scope, name.rsplit("/", 1)[-1], custom_role_only)
    if not found:
        raise CliError(f"Role '{name}' doesn't exist.")
    for d in found:
        sess.arm().delete(f"{collection(scope, 'roleDefinitions')}/{d['name']}", AUTHZ_API)
