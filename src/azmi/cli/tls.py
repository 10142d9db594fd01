"""`azmi ca show`: where azmi's local CA is, and how to trust it (issue: TLS that users trust in one step)."""

from __future__ import annotations

from pathlib import Path

import click

from azmi.cli.context import Session
from azmi.cli.errors import CliError


@click.group("ca")
def ca() -> None:
    """azmi's local certificate authority (every HTTPS surface is served with a certificate from it)."""


@ca.command("show")
@click.option("--pem", is_flag=True, help="Print the certificate itself instead of its path.")
@click.option("--bundle", is_flag=True, help="The trust bundle (public CAs + azmi's), as REQUESTS_CA_BUNDLE uses.")
@click.pass_obj
def show(sess: Session, pem: bool, bundle: bool) -> None:
    """Print the CA certificate's path (or PEM); azmi run / azmi env already set the trust variables."""
    path = Path(sess.data_dir) / ("ca-bundle.pem" if bundle else "ca.pem")
    if not path.exists():
        raise CliError(f"no CA in {sess.data_dir} yet: start azmi once with `azmi up`")
    click.echo(path.read_text().rstrip() if pem else str(path))
