"""`azmi env` and `azmi run`: the environment a process on a resource sees.

The server answers `GET {arm}/azmi/environment?resourceId=<id>` with
`{"set": {VAR: value}, "unset": [VAR]}` — what Azure injects on that resource (IMDS for VMs
and container groups, IDENTITY_ENDPOINT/IDENTITY_HEADER for App Service and Functions).
`env` prints it as POSIX shell (`export VAR='value'`, `unset VAR`); `run` starts a command with
exactly that change applied to the current environment and exits with its exit code.
"""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Mapping
from typing import Any

import click

from azmi.cli.common import session
from azmi.cli.context import Session
from azmi.cli.errors import CliError
from azmi.cli.resources import KINDS

_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def shell_quote(value: str) -> str:
    """Single-quote for POSIX sh: ' becomes '\\''."""
    return "'" + value.replace("'", "'\\''") + "'"


def _check_name(name: str) -> str:
    if not _NAME.match(name):
        raise CliError(f"the server returned an invalid environment variable name: {name!r}")
    return name


def parse_environment(body: Any) -> tuple[dict[str, str], list[str]]:
    if not isinstance(body, dict):
        raise CliError("the server returned no environment")
    set_vars = {_check_name(str(k)): str(v) for k, v in (body.get("set") or {}).items()}
    unset = [_check_name(str(k)) for k in (body.get("unset") or []) if str(k) not in set_vars]
    return set_vars, unset


def render_env(set_vars: Mapping[str, str], unset: list[str]) -> str:
    lines = [f"export {k}={shell_quote(v)}" for k, v in set_vars.items()]
    lines += [f"unset {k}" for k in unset]
    return "".join(line + "\n" for line in lines)


def child_environment(base: Mapping[str, str], set_vars: Mapping[str, str], unset: list[str]) -> dict[str, str]:
    env = {k: v for k, v in base.items() if k not in unset}
    env.update(set_vars)
    return env


def target_id(subscription: str, kind_key: str, resource_group: str | None, name: str | None,
              ids: str | None) -> str:
    if ids:
        if resource_group or name:
            raise click.UsageError("usage error: --ids | -g RG -n NAME")
        return ids
    if not (resource_group and name):
        raise click.UsageError("usage error: --ids | -g RG -n NAME")
    return KINDS[kind_key].resource_id(subscription, resource_group, name)


def fetch_environment(sess: Session, rid: str) -> tuple[dict[str, str], list[str]]:
    body = sess.arm().get("/azmi/environment", None, params={"resourceId": rid})
    return parse_environment(body)


def _target_options(fn: Any) -> Any:
    fn = click.option("--subscription", help="Name or ID of subscription.")(fn)
    fn = click.option("--ids", help="The resource id (instead of -g/-n).")(fn)
    fn = click.option("--type", "kind", type=click.Choice(sorted(KINDS)), default="vm", show_default=True,
                      help="Kind of resource the process runs on.")(fn)
    fn = click.option("-n", "--name", help="Name of the resource.")(fn)
    fn = click.option("-g", "--resource-group", "resource_group", help="Name of resource group.")(fn)
    return fn


def _resolve(kind: str, resource_group: str | None, name: str | None, ids: str | None,
             subscription: str | None) -> tuple[dict[str, str], list[str]]:
    sess = session()
    if subscription:
        sess.subscription = subscription
    sub = sess.subscription_id if not ids else ""
    return fetch_environment(sess, target_id(sub, kind, resource_group, name, ids))


@click.command("env", help="Print the environment of a process on a resource, as shell lines.")
@_target_options
def env(kind: str, resource_group: str | None, name: str | None, ids: str | None, subscription: str | None) -> None:
    set_vars, unset = _resolve(kind, resource_group, name, ids, subscription)
    click.echo(render_env(set_vars, unset), nl=False)


def exit_status(returncode: int) -> int:
    """A child's status as a shell reports it: 128+N when killed by signal N."""
    return 128 - returncode if returncode < 0 else returncode


@click.command("run", help="Run a command as it would run on a resource: azmi run -g RG -n NAME -- CMD ARGS...",
               context_settings={"ignore_unknown_options": True, "allow_interspersed_args": False})
@_target_options
@click.argument("command", nargs=-1, required=True, type=click.UNPROCESSED)
def run(kind: str, resource_group: str | None, name: str | None, ids: str | None, subscription: str | None,
        command: tuple[str, ...]) -> None:
    set_vars, unset = _resolve(kind, resource_group, name, ids, subscription)
    child_env = child_environment(os.environ, set_vars, unset)
    try:
        proc = subprocess.Popen(list(command), env=child_env)
    except FileNotFoundError:
        raise CliError(f"command not found: {command[0]}", exit_code=127) from None
    except PermissionError:
        raise CliError(f"permission denied: {command[0]}", exit_code=126) from None
    while True:
        try:
            returncode = proc.wait()
            break
        except KeyboardInterrupt:
            continue  # the child got the SIGINT too; wait for it to decide
    raise click.exceptions.Exit(exit_status(returncode))
