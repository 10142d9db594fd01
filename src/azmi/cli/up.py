"""`azmi up`: start every surface in the foreground until Ctrl-C."""

from __future__ import annotations

import asyncio
import sys
import time
from pathlib import Path
from typing import Any

import click

from azmi import settings as settings_mod


def _run(main: Any) -> None:
    """uvloop where available (measurably faster on the token path), asyncio otherwise."""
    try:
        import uvloop
    except ImportError:
        asyncio.run(main)
    else:
        uvloop.run(main)


@click.command("up")
@click.option("--data-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Where azmi keeps its database, CA and endpoint file (default: $AZMI_DATA_DIR or ~/.azmi).")
@click.option("--in-memory", is_flag=True, default=False, help="Keep all state in memory; nothing survives a stop.")
@click.option("--db", "db_url", default=None, help="Database URL (default: SQLite in the data directory).")
@click.option("--host", default=None, help="Address to listen on (default 127.0.0.1, loopback only).")
@click.option("--port-base", type=int, default=None,
              help="Listen on PORT..PORT+3 for ARM, login, IMDS and App Service, PORT+10.. for vaults "
                   "(0 = any free ports).")
@click.option("--profile", type=click.Choice(sorted(settings_mod.PROFILES)), default=None,
              help="'azure' turns on Azure-realistic limits and delays (24 h tokens, IMDS 20 req/s and 5 concurrent "
                   "per VM, 5 min RBAC propagation); the default stays fast and deterministic.")
@click.pass_context
def up(ctx: click.Context, data_dir: Path | None, in_memory: bool, db_url: str | None, host: str | None,
       port_base: int | None, profile: str | None) -> None:
    """Start azmi in the foreground: ARM, login (Entra), IMDS and App Service endpoints."""
    from azmi.http.server import serve

    overrides: dict[str, object] = {}
    if data_dir is None and ctx.obj is not None and getattr(ctx.obj, "data_dir", None) is not None:
        data_dir = Path(ctx.obj.data_dir)
    if data_dir is not None:
        overrides["data_dir"] = data_dir.expanduser().resolve()
    if in_memory:
        overrides["in_memory"] = True
    if db_url:
        overrides["db_url"] = db_url
    if host:
        overrides["host"] = host
    if profile:
        overrides["profile"] = profile
    if port_base is not None:
        step = 1 if port_base else 0
        overrides["ports"] = settings_mod.Ports(port_base, port_base + step, port_base + 2 * step,
                                                port_base + 3 * step, port_base + 10 * step, port_base + 20 * step)
    try:
        cfg = settings_mod.from_env(**overrides)
    except settings_mod.SettingsError as exc:
        raise click.ClickException(str(exc)) from None
    started = time.monotonic()
    click.echo(f"azmi: starting (data directory {cfg.data_dir}) ...", err=True)

    def ready(azmi) -> None:  # type: ignore[no-untyped-def]
        ep = azmi.endpoints
        click.echo(f"azmi is ready in {time.monotonic() - started:.2f}s", err=True)
        click.echo(f"  ARM (control plane)  {ep.arm}")
        click.echo(f"  login (Entra ID)     {ep.login}/{cfg.tenant_id}")
        click.echo(f"  IMDS                 {ep.imds}/<resource key>   (see: azmi env -g RG -n VM)")
        click.echo(f"  App Service          {ep.appservice}/msi/token")
        click.echo(f"  Blob Storage         {ep.blob}/<account>")
        click.echo("  Key Vault            one HTTPS port per vault (its properties.vaultUri)")
        click.echo(f"  tenant               {cfg.tenant_id}")
        click.echo(f"  subscription         {cfg.subscription_id}")
        click.echo(f"  data directory       {cfg.data_dir}{'  (state in memory)' if cfg.in_memory else ''}")
        click.echo(f"  CA certificate       {cfg.data_dir / 'ca.pem'}")
        if cfg.profile != "default":
            click.echo(f"  profile              {cfg.profile}: tokens {cfg.token_lifetime}s, IMDS {cfg.imds_rate_limit}/s "
                       f"and {cfg.imds_max_concurrent} concurrent, RBAC propagation {cfg.rbac_propagation_delay}s")
        click.echo("Press Ctrl-C to stop.", err=True)
        sys.stdout.flush()

    try:
        _run(serve(cfg, on_ready=ready))
    except KeyboardInterrupt:
        pass
    click.echo("azmi stopped.", err=True)
