"""`azmi group`: resource groups, as `az group` (Microsoft.Resources, api-version 2022-09-01).

`group delete` asks "Are you sure you want to perform this operation? (y/n):" unless --yes;
`group exists` prints true/false; `group list -o table` uses az's Name/Location/Status columns.
"""

from __future__ import annotations

from typing import Any

import click

from azmi.cli.client import RG_API
from azmi.cli.common import az_command, confirm, parse_tags, yes_option
from azmi.cli.context import Session
from azmi.cli.resources import rg_path


def transform_group(group: Any) -> Any:
    def row(g: dict[str, Any]) -> dict[str, Any]:
        return {"Name": g.get("name"), "Location": g.get("location"),
                "Status": (g.get("properties") or {}).get("provisioningState")}
    return [row(g) for g in group] if isinstance(group, list) else row(group)


def group_name_option() -> Any:
    return click.option("-n", "-g", "--name", "--resource-group", "name", required=True,
                        help="Name of resource group.")


@click.group("group", help="Manage resource groups.")
def group() -> None:
    pass


@az_command(group, "create", table=transform_group, help="Create a new resource group.")
@group_name_option()
@click.option("-l", "--location", required=True, help="Location, e.g. eastus.")
@click.option("--tags", multiple=True, help="Space-separated tags: key[=value].")
@click.option("--managed-by", hidden=True)
def create(sess: Session, name: str, location: str, tags: tuple[str, ...], managed_by: str | None) -> Any:
    body = {"location": location, "tags": parse_tags(tags)}
    return sess.arm().put(rg_path(sess.subscription_id, name), RG_API, body)


@az_command(group, "list", table=transform_group, help="List resource groups.")
def list_groups(sess: Session) -> Any:
    return sess.arm().list(f"/subscriptions/{sess.subscription_id}/resourcegroups", RG_API)


@az_command(group, "show", table=transform_group, help="Gets a resource group.")
@group_name_option()
def show(sess: Session, name: str) -> Any:
    return sess.arm().get(rg_path(sess.subscription_id, name), RG_API)


@az_command(group, "delete", help="Delete a resource group.")
@group_name_option()
@yes_option()
@click.option("--no-wait", is_flag=True, hidden=True)
@click.option("-f", "--force-deletion-types", hidden=True)
def delete(sess: Session, name: str, yes: bool, no_wait: bool, force_deletion_types: str | None) -> None:
    confirm(yes)
    sess.arm().delete(rg_path(sess.subscription_id, name), RG_API)


@az_command(group, "exists", help="Check if a resource group exists.")
@group_name_option()
def exists(sess: Session, name: str) -> bool:
    status, _ = sess.arm().request("HEAD", rg_path(sess.subscription_id, name), RG_API, allow_404=True)
    return status != 404
