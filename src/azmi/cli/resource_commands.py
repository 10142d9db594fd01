"""Commands shared by every resource kind, written once and parametrised by `Kind`:
`list`, `show`, `delete`, `update --set`, and `identity assign|remove|show` (vm, webapp, functionapp,
container; `identity assign --role R --scope S` also grants the system-assigned identity that role),
plus the PUT that every `create` ends with (`--assign-identity`, default location = the group's).

`update --set clockSkew=7m` is azmi's fault control (the machine's clock is off; tokens minted for
it carry skewed times); any other `--set path=value` is az's generic update, kept simple: `tags.k=v`
changes a tag, `a.b=c` (or `properties.a.b=c`) a property; values are JSON when they parse as JSON.
"""

from __future__ import annotations

from typing import Any

import json

import click

from azmi.cli.client import RG_API
from azmi.cli.common import az_command, confirm, name_option, rg_option, yes_option
from azmi.cli.context import Session
from azmi.cli.errors import CliError
from azmi.cli.fault import parse_duration, set_clock_skew
from azmi.cli.identity_ops import (assign_patch, create_identity, parse_identity_refs, remove_patch,
                                   shown_identity, vm_identity_summary)
from azmi.cli.output import TableTransformer
from azmi.cli.resources import Kind, az_view, rg_path
from azmi.cli.role import grant_identity


def resource_path(sess: Session, kind: Kind, rg: str, name: str) -> str:
    return kind.resource_id(sess.subscription_id, rg, name)


def get_resource(sess: Session, kind: Kind, rg: str, name: str) -> dict[str, Any]:
    return sess.arm().get(resource_path(sess, kind, rg, name), kind.api_version)


def group_location(sess: Session, rg: str) -> str:
    return str(sess.arm().get(rg_path(sess.subscription_id, rg), RG_API)["location"])


def create_resource(sess: Session, kind: Kind, rg: str, name: str, location: str | None,
                    body: dict[str, Any], assign_identity: tuple[str, ...] | None) -> dict[str, Any]:
    """PUT a new resource; `assign_identity` is the raw `--assign-identity` values (None: absent)."""
    body = {"location": location or group_location(sess, rg), **body}
    if assign_identity:
        request = parse_identity_refs(assign_identity, sess.subscription_id, rg)
        body["identity"] = create_identity(request, kind.both_spelling)
    return sess.arm().put(resource_path(sess, kind, rg, name), kind.api_version, body)


def assign_identity_option() -> Any:
    return click.option("--assign-identity", "assign_identity", multiple=True,
                        help="Accept system or user assigned identities separated by spaces. "
                             "Use '[system]' for the system assigned identity.")


def add_read_commands(group: click.Group, kind: Kind, confirm_delete: bool,
                      list_table: TableTransformer | None = None) -> None:
    @az_command(group, "list", table=list_table, help=f"List {kind.label}s.")
    @rg_option(required=False)
    def list_cmd(sess: Session, resource_group: str | None) -> list[Any]:
        items = sess.arm().list(kind.collection_path(sess.subscription_id, resource_group), kind.api_version)
        return [az_view(i) for i in items if kind.matches(i)]

    @az_command(group, "show", help=f"Show the details of a {kind.label}.")
    @rg_option()
    @name_option()
    def show_cmd(sess: Session, resource_group: str, name: str) -> Any:
        return az_view(get_resource(sess, kind, resource_group, name))

    @az_command(group, "delete", help=f"Delete a {kind.label}.")
    @rg_option()
    @name_option()
    @yes_option()
    @click.option("--no-wait", is_flag=True, hidden=True)
    def delete_cmd(sess: Session, resource_group: str, name: str, yes: bool, no_wait: bool) -> None:
        if confirm_delete:
            confirm(yes)
        sess.arm().delete(resource_path(sess, kind, resource_group, name), kind.api_version)

    add_update_command(group, kind)


def add_identity_commands(parent: click.Group, kind: Kind) -> click.Group:
    group = click.Group("identity", help=f"Manage the managed identities of a {kind.label}.")
    parent.add_command(group)
    ids_help = "Space-separated identities. Use '[system]' to refer to the system assigned identity."

    @az_command(group, "assign", help=f"Enable managed identities on a {kind.label}.")
    @rg_option()
    @name_option()
    @click.option("--identities", multiple=True, help=ids_help + " Default: '[system]'.")
    @click.option("--role", help="Role name or id the system assigned identity will have (with --scope).")
    @click.option("--scope", help="Scope the system assigned identity can access (with --role).")
    def assign_cmd(sess: Session, resource_group: str, name: str, identities: tuple[str, ...],
                   role: str | None, scope: str | None) -> Any:
        path = resource_path(sess, kind, resource_group, name)
        current = sess.arm().get(path, kind.api_version).get("identity")
        request = parse_identity_refs(identities, sess.subscription_id, resource_group)
        updated = sess.arm().patch(path, kind.api_version, assign_patch(current, request, kind.both_spelling))
        identity = (updated or {}).get("identity")
        if (role or scope) and (identity or {}).get("principalId"):
            grant_identity(sess, str(identity["principalId"]), role, scope)
        return vm_identity_summary(identity) if kind.assign_summary else identity

    @az_command(group, "remove", help=f"Remove managed identities from a {kind.label}.")
    @rg_option()
    @name_option()
    @click.option("--identities", multiple=True, help=ids_help + " Default: '[system]'.")
    def remove_cmd(sess: Session, resource_group: str, name: str, identities: tuple[str, ...]) -> Any:
        path = resource_path(sess, kind, resource_group, name)
        resource = sess.arm().get(path, kind.api_version)
        request = parse_identity_refs(identities, sess.subscription_id, resource_group)
        body = remove_patch(resource.get("identity"), request, str(resource.get("name") or name),
                            kind.both_spelling)
        updated = sess.arm().patch(path, kind.api_version, body)
        return shown_identity((updated or {}).get("identity"))

    @az_command(group, "show", help=f"Display the managed identities of a {kind.label}.")
    @rg_option()
    @name_option()
    def show_cmd(sess: Session, resource_group: str, name: str) -> Any:
        return shown_identity(get_resource(sess, kind, resource_group, name).get("identity"))

    return group


def parse_set(values: tuple[str, ...] | list[str]) -> tuple[int | None, dict[str, Any]]:
    """`--set` values -> (clock skew seconds or None, {dotted path: value})."""
    skew: int | None = None
    paths: dict[str, Any] = {}
    for item in values:
        path, eq, raw = item.partition("=")
        path = path.strip()
        if not eq or not path:
            raise CliError(f"usage error: --set PATH=VALUE (got '{item}')")
        if path.lower() == "clockskew":
            try:
                skew = parse_duration(raw, signed=True)
            except ValueError as exc:
                raise CliError(f"clockSkew: {exc}") from None
            continue
        try:
            value: Any = json.loads(raw)
        except ValueError:
            value = raw
        paths[path] = value
    return skew, paths


def update_patch(resource: dict[str, Any], paths: dict[str, Any]) -> dict[str, Any]:
    """The PATCH body for generic `--set` paths, merged into the resource's current values."""
    tags = dict(resource.get("tags") or {})
    props = json.loads(json.dumps(resource.get("properties") or {}))
    touched_tags, touched_props = False, set()
    for path, value in paths.items():
        parts = [p for p in path.split(".") if p]
        if parts[0] == "tags":
            if len(parts) != 2:
                raise CliError(f"usage error: --set tags.NAME=VALUE (got '{path}')")
            tags[parts[1]] = str(value)
            touched_tags = True
            continue
        if parts[0] == "properties":
            parts = parts[1:]
        if not parts:
            raise CliError(f"usage error: --set PATH=VALUE (got '{path}')")
        node = props
        for part in parts[:-1]:
            if not isinstance(node.get(part), dict):
                node[part] = {}
            node = node[part]
        node[parts[-1]] = value
        touched_props.add(parts[0])
    body: dict[str, Any] = {}
    if touched_tags:
        body["tags"] = tags
    if touched_props:
        body["properties"] = {k: props[k] for k in touched_props}
    return body


def add_update_command(group: click.Group, kind: Kind) -> None:
    @az_command(group, "update", help=f"Update a {kind.label}: --set clockSkew=7m (azmi's fault control) "
                                      "or --set PATH=VALUE.")
    @rg_option()
    @name_option()
    @click.option("--set", "set_values", multiple=True, required=True,
                  help="Space-separated PATH=VALUE pairs; clockSkew=DURATION (e.g. 7m, -3m, 0) skews the "
                       "resource's clock.")
    def update_cmd(sess: Session, resource_group: str, name: str, set_values: tuple[str, ...]) -> Any:
        skew, paths = parse_set(set_values)
        path = resource_path(sess, kind, resource_group, name)
        resource = sess.arm().get(path, kind.api_version)
        if paths:
            resource = sess.arm().patch(path, kind.api_version, update_patch(resource, paths))
        view = az_view(resource)
        if skew is not None:
            view["clockSkewSeconds"] = set_clock_skew(sess, path, skew).get("clockSkewSeconds", skew)
        return view
