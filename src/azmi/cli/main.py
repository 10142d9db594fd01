"""The `azmi` root command: az-style groups plus `env`, `run` and (when present) `up`.

The root group rewrites az's space-separated multi-value options (see `argv.py`) before Click
parses them, and holds the data dir (`--data-dir`, env `AZMI_DATA_DIR`, default `~/.azmi`).
"""

from __future__ import annotations

from typing import Any

import click

from azmi.cli.account import account
from azmi.cli.ad import ad
from azmi.cli.argv import expand_multi_values
from azmi.cli.container import container
from azmi.cli.context import Session, resolve_data_dir
from azmi.cli.fault import clock, fault
from azmi.cli.groups import group
from azmi.cli.identity import identity
from azmi.cli.keyvault import keyvault
from azmi.cli.keyvault_secret import secret
from azmi.cli.lab import lab
from azmi.cli.role import role
from azmi.cli.storage import storage
from azmi.cli.tls import ca
from azmi.cli.runenv import env, run
from azmi.cli.vm import vm
from azmi.cli.webapp import functionapp, webapp


class AzGroup(click.Group):
    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        return super().parse_args(ctx, expand_multi_values(list(args)))


@click.group(cls=AzGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--data-dir", envvar="AZMI_DATA_DIR", type=click.Path(file_okay=False),
              help="Where azmi keeps its state (default ~/.azmi; env AZMI_DATA_DIR).")
@click.version_option(package_name="azmi", prog_name="azmi")
@click.pass_context
def cli(ctx: click.Context, data_dir: str | None) -> None:
    """azmi: Azure Managed Identities, locally. Commands mirror `az`."""
    ctx.obj = Session(data_dir=resolve_data_dir(data_dir))


keyvault.add_command(secret)
for command in (account, group, vm, webapp, functionapp, container, identity, role, ad, keyvault, env, run,
                fault, clock, lab):
    cli.add_command(command)
cli.add_command(storage)
cli.add_command(ca)

try:
    from azmi.cli.up import up
except ImportError:
    up = None
if up is not None:
    cli.add_command(up)


def main(argv: list[str] | None = None) -> Any:
    return cli.main(args=argv, prog_name="azmi")


if __name__ == "__main__":
    main()
