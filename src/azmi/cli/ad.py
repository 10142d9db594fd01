"""`azmi ad`: the directory (Entra) objects azmi knows, as `az ad signed-in-user|sp show`.

azmi's directory is `GET {arm}/azmi/principals/{id}`: a Graph-like servicePrincipal (managed
identities, found by object id or client id) or user (the operator). The look-ups that
`az role assignment` does through Graph (`_resolve_object_id`, `_get_displayable_name`) live
here too.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import click

from azmi.cli.client import is_guid
from azmi.cli.common import az_command
from azmi.cli.context import Session, load_operator
from azmi.cli.errors import EXIT_NOT_FOUND, CliError

GRAPH_USER = "#microsoft.graph.user"
GRAPH_GROUP = "#microsoft.graph.group"


def graph_not_found(some_id: str) -> CliError:
    return CliError(f"Resource '{some_id}' does not exist or one of its queried reference-property objects "
                    "are not present.", exit_code=EXIT_NOT_FOUND)


def find_principal(sess: Session, some_id: str) -> dict[str, Any] | None:
    """The directory object with this object id or client id; None when there is none."""
    status, data = sess.arm().request("GET", f"/azmi/principals/{quote(some_id, safe='')}", allow_404=True)
    return None if status == 404 else data


def principal_type(obj: dict[str, Any]) -> str:
    """A role assignment's principalType for a directory object (az `_get_principal_type_from_object`)."""
    kind = str(obj.get("@odata.type") or "")
    if kind == GRAPH_USER:
        return "User"
    if kind == GRAPH_GROUP:
        return "Group"
    return "ServicePrincipal"


def displayable_name(obj: dict[str, Any]) -> str:
    """az's `_get_displayable_name`: userPrincipalName, else first servicePrincipalName, else displayName."""
    if obj.get("userPrincipalName"):
        return str(obj["userPrincipalName"])
    if obj.get("servicePrincipalNames"):
        return str(obj["servicePrincipalNames"][0])
    return str(obj.get("displayName") or "")


def resolve_assignee(sess: Session, assignee: str, fallback_to_object_id: bool) -> tuple[str, str | None]:
    """(object id, principalType) of an `--assignee` (object id or client id), like az's
    `_resolve_object_id_and_type`; an unknown GUID is taken as an object id when `fallback_to_object_id`."""
    found = find_principal(sess, assignee)
    if found is not None:
        return str(found["id"]), principal_type(found)
    if fallback_to_object_id and is_guid(assignee):
        return assignee, None
    raise CliError(f"Cannot find user or service principal in graph database for '{assignee}'. If the assignee "
                   "is an appId, make sure the corresponding service principal is created with "
                   f"'az ad sp create --id {assignee}'.")


@click.group("ad", help="Manage Microsoft Entra ID (formerly known as Azure Active Directory) objects.")
def ad() -> None:
    pass


@click.group("signed-in-user", help="Show graph information about current signed-in user.")
def signed_in_user() -> None:
    pass


@click.group("sp", help="Manage Microsoft Entra service principals.")
def sp() -> None:
    pass


ad.add_command(signed_in_user)
ad.add_command(sp)


@az_command(signed_in_user, "show", help="Get the details for the currently logged-in user.")
def signed_in_show(sess: Session) -> Any:
    object_id = load_operator(sess.data_dir).object_id
    if not object_id:
        raise CliError("the operator's object id is unknown (operator.json has no object_id)")
    found = find_principal(sess, object_id)
    if found is None:
        raise graph_not_found(object_id)
    return found


@az_command(sp, "show", help="Get the details of a service principal.")
@click.option("--id", "sp_id", required=True, help="Service principal name, or object id.")
def sp_show(sess: Session, sp_id: str) -> Any:
    found = find_principal(sess, sp_id)
    if found is None or principal_type(found) != "ServicePrincipal":
        raise graph_not_found(sp_id)
    return found
