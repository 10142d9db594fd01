"""`azmi identity`: user-assigned managed identities, as `az identity`.

az prints the SDK's flattened model: `clientId`, `principalId`, `tenantId` at the top level
(so `--query clientId -o tsv` prints the bare id) and a `resourceGroup` key.
"""

from __future__ import annotations

from typing import Any

import click

from azmi.cli.common import az_command, name_option, parse_tags, rg_option, yes_option
from azmi.cli.context import Session
from azmi.cli.resource_commands import group_location
from azmi.cli.resources import UAMI, az_view


def _path(sess: Session, rg: str, name: str) -> str:
    return UAMI.resource_id(sess.subscription_id, rg, name)


@click.group("identity", help="Managed Identities.")
def identity() -> None:
    pass


@az_command(identity, "create", help="Create an identity.")
@rg_option()
@name_option(help="The name of the identity resource.")
@click.option("-l", "--location", help="Location. Default: the resource group's location.")
@click.option("--tags", multiple=True, help="Space-separated tags: key[=value].")
def create(sess: Session, resource_group: str, name: str, location: str | None, tags: tuple[str, ...]) -> Any:
    body = {"location": location or group_location(sess, resource_group), "tags": parse_tags(tags)}
    return az_view(sess.arm().put(_path(sess, resource_group, name), UAMI.api_version, body))


@az_command(identity, "show", help="Show an identity.")
@rg_option()
@name_option(help="The name of the identity resource.")
def show(sess: Session, resource_group: str, name: str) -> Any:
    return az_view(sess.arm().get(_path(sess, resource_group, name), UAMI.api_version))


@az_command(identity, "list", help="List identities.")
@rg_option(required=False)
def list_identities(sess: Session, resource_group: str | None) -> Any:
    items = sess.arm().list(UAMI.collection_path(sess.subscription_id, resource_group), UAMI.api_version)
    return [az_view(i) for i in items]


@az_command(identity, "delete", help="Delete an identity.")
@rg_option()
@name_option(help="The name of the identity resource.")
@yes_option()
def delete(sess: Session, resource_group: str, name: str, yes: bool) -> None:
    sess.arm().delete(_path(sess, resource_group, name), UAMI.api_version)
