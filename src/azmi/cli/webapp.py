"""`azmi webapp` and `azmi functionapp`, as `az webapp` / `az functionapp`.

Both are `Microsoft.Web/sites`, told apart by `kind` (`app` / `functionapp`): `webapp list`
shows sites whose kind lacks "functionapp", `functionapp list` the others. `identity assign`
prints the site's identity block, as az does. Plan, runtime and storage options are accepted
and ignored: azmi emulates no hosting.
"""

from __future__ import annotations

from typing import Any

import click

from azmi.cli.common import az_command, name_option, parse_tags, rg_option
from azmi.cli.context import Session
from azmi.cli.resource_commands import (add_identity_commands, add_read_commands, assign_identity_option,
                                        create_resource)
from azmi.cli.resources import FUNCTIONAPP, WEBAPP, Kind, az_view


def site_body(kind: Kind, tags: dict[str, str]) -> dict[str, Any]:
    return {"kind": kind.site_kind, "tags": tags, "properties": {}}


def transform_site_list(sites: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """az's `transform_web_list_output` columns."""
    rows = []
    for site in sites:
        plan = str(site.get("serverFarmId") or "").rsplit("/", 1)[-1]
        rows.append({"name": site.get("name"), "location": site.get("location"), "state": site.get("state"),
                     "resourceGroup": site.get("resourceGroup"), "defaultHostName": site.get("defaultHostName"),
                     "appServicePlan": plan})
    return rows


def _site_group(kind: Kind, help_text: str) -> click.Group:
    group = click.Group(kind.key, help=help_text)
    add_read_commands(group, kind, confirm_delete=False, list_table=transform_site_list)
    add_identity_commands(group, kind)
    return group


webapp = _site_group(WEBAPP, "Manage web apps.")
functionapp = _site_group(FUNCTIONAPP, "Manage function apps.")


@az_command(webapp, "create", help="Create a web app.")
@rg_option()
@name_option(help="Name of the new web app.")
@click.option("-p", "--plan", help="Name or resource id of the app service plan (ignored).")
@click.option("-r", "--runtime", help="Runtime stack (ignored).")
@click.option("-l", "--location", help="Location. Default: the resource group's location.")
@click.option("--tags", multiple=True, help="Space-separated tags: key[=value].")
@assign_identity_option()
@click.option("--role", hidden=True)
@click.option("--scope", hidden=True)
@click.option("--deployment-container-image-name", "-i", hidden=True)
def create_webapp(sess: Session, resource_group: str, name: str, location: str | None, tags: tuple[str, ...],
                  assign_identity: tuple[str, ...], **_ignored: Any) -> Any:
    body = site_body(WEBAPP, parse_tags(tags))
    return az_view(create_resource(sess, WEBAPP, resource_group, name, location, body, assign_identity or None))


@az_command(functionapp, "create", help="Create a function app.")
@rg_option()
@name_option(help="Name of the new function app.")
@click.option("-s", "--storage-account", help="Storage account (ignored).")
@click.option("-c", "--consumption-plan-location", help="Location of a consumption plan; also the app's.")
@click.option("-p", "--plan", help="App service plan (ignored).")
@click.option("--runtime", help="Runtime (ignored).")
@click.option("--runtime-version", hidden=True)
@click.option("--functions-version", hidden=True)
@click.option("--os-type", hidden=True)
@click.option("-l", "--location", help="Location. Default: the resource group's location.")
@click.option("--tags", multiple=True, help="Space-separated tags: key[=value].")
@assign_identity_option()
@click.option("--role", hidden=True)
@click.option("--scope", hidden=True)
def create_functionapp(sess: Session, resource_group: str, name: str, consumption_plan_location: str | None,
                       location: str | None, tags: tuple[str, ...], assign_identity: tuple[str, ...],
                       **_ignored: Any) -> Any:
    body = site_body(FUNCTIONAPP, parse_tags(tags))
    where = location or consumption_plan_location
    return az_view(create_resource(sess, FUNCTIONAPP, resource_group, name, where, body, assign_identity or None))
