"""`azmi lab`: the chapter's facts and traps, each reproduced on purpose and checked.

`azmi lab list` names them; `azmi lab run NAME` runs one, `azmi lab run --all` all of them, with a
`N passed, M failed` line (exit 1 on any failure). Each lab works in its own fresh resource group,
prints the commands and HTTP exchanges that matter, the outcome and the lesson, then deletes the
group. The labs expect the default profile (no RBAC propagation delay): under `--profile azure`
the labs that grant roles wait for nothing and fail.
"""

from __future__ import annotations

import click

from azmi.cli.common import session
from azmi.cli.lab.authz_labs import LABS as AUTHZ_LABS
from azmi.cli.lab.core import Lab, Summary, run_lab
from azmi.cli.lab.identity_labs import LABS as IDENTITY_LABS
from azmi.cli.lab.runtime_labs import LABS as RUNTIME_LABS

CATALOGUE: list[Lab] = [*IDENTITY_LABS, *RUNTIME_LABS, *AUTHZ_LABS]
BY_NAME = {lab.name: lab for lab in CATALOGUE}


@click.group("lab", help="Short, checked scenarios: one per Managed Identity fact or trap.")
def lab() -> None:
    pass


@lab.command("list", help="List the labs.")
def list_cmd() -> None:
    width = max(len(x.name) for x in CATALOGUE)
    for x in CATALOGUE:
        click.echo(f"{x.name:<{width}}  {x.title}")


@lab.command("run", help="Run a lab (azmi lab run NAME ...) or all of them (--all).")
@click.argument("names", nargs=-1)
@click.option("--all", "run_all", is_flag=True, help="Run every lab and print a pass/fail summary.")
def run_cmd(names: tuple[str, ...], run_all: bool) -> None:
    if run_all == bool(names):
        raise click.UsageError("usage: azmi lab run NAME ... | azmi lab run --all")
    unknown = [n for n in names if n not in BY_NAME]
    if unknown:
        raise click.UsageError(f"no such lab: {', '.join(unknown)} (see: azmi lab list)")
    chosen = CATALOGUE if run_all else [BY_NAME[n] for n in names]
    sess = session()
    summary = Summary()
    for x in chosen:
        run_lab(sess, x, click.echo, summary)
    if len(chosen) > 1:
        click.echo(summary.line())
    if summary.failed:
        raise click.exceptions.Exit(1)
