"""Shared command plumbing: az's global options, output emission, confirmation prompts.

Every leaf command takes `-o/--output`, `--query`, `--subscription` (and accepts az's
`--only-show-errors`, `--debug`, `--verbose`). The command body returns a plain JSON value;
`az_command` renders it as az would.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from typing import Any

import click

from azmi.cli.context import Session
from azmi.cli.errors import CliError
from azmi.cli.output import FORMATS, TableTransformer, compile_query, render

NO_TTY = "Unable to prompt for confirmation as no tty available. Use --yes."
CONFIRM = "Are you sure you want to perform this operation? (y/n): "


def _query_callback(ctx: click.Context, param: click.Parameter, value: str | None) -> Any:
    if value is None:
        return None
    try:
        return compile_query(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc), ctx=ctx, param=param) from exc


def session() -> Session:
    return click.get_current_context().find_object(Session)  # type: ignore[return-value]


def az_command(group: click.Group, name: str, table: TableTransformer | None = None,
               **settings: Any) -> Callable[[Callable[..., Any]], click.Command]:
    """Register `fn(sess, **options)` as `group name`, printing its result like az."""

    def decorate(fn: Callable[..., Any]) -> click.Command:
        @functools.wraps(fn)
        def run(output: str, query: Any, subscription: str | None, only_show_errors: bool,
                debug: bool, verbose: bool, **kwargs: Any) -> None:
            sess = session()
            if subscription:
                sess.subscription = subscription
            result = fn(sess, **kwargs)
            text = render(result, output, query, table)
            if text:
                click.echo(text, nl=False)

        run = click.option("--verbose", is_flag=True, hidden=True)(run)
        run = click.option("--debug", is_flag=True, hidden=True)(run)
        run = click.option("--only-show-errors", is_flag=True, hidden=True)(run)
        run = click.option("--subscription", help="Name or ID of subscription.")(run)
        run = click.option("--query", callback=_query_callback, help="JMESPath query string.")(run)
        run = click.option("-o", "--output", type=click.Choice(FORMATS), default="json",
                           show_default=True, help="Output format.")(run)
        return group.command(name, **settings)(run)

    return decorate


def rg_option(required: bool = True) -> Callable[[Any], Any]:
    return click.option("-g", "--resource-group", "resource_group", required=required,
                        help="Name of resource group.")


def name_option(required: bool = True, help: str = "The name of the resource.") -> Callable[[Any], Any]:
    return click.option("-n", "--name", "name", required=required, help=help)


def yes_option() -> Callable[[Any], Any]:
    return click.option("-y", "--yes", is_flag=True, help="Do not prompt for confirmation.")


def parse_tags(values: tuple[str, ...] | list[str]) -> dict[str, str]:
    """az's `--tags k=v k2=v2`; `k` alone means an empty value, an empty token nothing."""
    tags: dict[str, str] = {}
    for token in values:
        if not token:
            continue
        key, _, value = token.partition("=")
        tags[key] = value
    return tags


def confirm(yes: bool) -> None:
    """az's prompt_y_n: an explicit 'y' proceeds; no tty without --yes is an error."""
    if yes:
        return
    if not sys.stdin.isatty():
        raise CliError(NO_TTY)
    answer = click.prompt(CONFIRM, default="", show_default=False, prompt_suffix="")
    if answer.strip().lower() not in ("y", "yes"):
        raise click.exceptions.Exit(0)
