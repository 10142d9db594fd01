"""Runs azmi: binds every surface, serves them on one event loop, records where they listen.

`{data_dir}/endpoints.json` tells the CLI where azmi is; `{data_dir}/operator.json` (0600)
holds the operator's sign-in secret. Both are removed again on a clean stop.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import signal
import socket
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator

import uvicorn

from azmi.clock import Clock, SystemClock
from azmi.http.app import HTTPS_SURFACES, Azmi, create_app
from azmi.http.endpoints import Endpoints
from azmi.pki import ensure_tls
from azmi.settings import Settings
from azmi.store import Store
from azmi.tokens.claims import AZURE_CLI_APP_ID

log = logging.getLogger("azmi")


class _Server(uvicorn.Server):
    @contextmanager
    def capture_signals(self) -> Iterator[None]:  # the runner owns signals for all surfaces
        yield


def bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise SystemExit(f"ERROR: cannot listen on {host}:{port}: {exc.strerror}. Is another azmi running? "
                         "Choose other ports with AZMI_*_PORT.") from None
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def _write_private(path: Path, data: dict[str, object], mode: int) -> None:
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "w") as f:
        json.dump(data, f, indent=2)
    os.replace(tmp, path)


async def serve(settings: Settings, *, clock: Clock | None = None,
                on_ready: Callable[[Azmi], None] | None = None) -> None:
    data_dir = settings.data_dir
    data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    tls = ensure_tls(data_dir, [settings.host])
    sockets = {name: bind(settings.host, getattr(settings.ports, name)) for name in
               ("arm", "login", "imds", "appservice")}
    shown_host = f"[{settings.host}]" if ":" in settings.host else settings.host
    endpoints = Endpoints(**{name: f"{'https' if name in HTTPS_SURFACES else 'http'}://{shown_host}:"
                                   f"{sock.getsockname()[1]}" for name, sock in sockets.items()})
    store = Store(settings.database_url)
    azmi = create_app(settings, store, clock or SystemClock(), endpoints, str(tls.bundle))
    servers = []
    for name, sock in sockets.items():
        tls_args = dict(ssl_certfile=str(tls.leaf_cert), ssl_keyfile=str(tls.leaf_key)) if name in HTTPS_SURFACES else {}
        config = uvicorn.Config(azmi.apps[name], log_level="warning", access_log=False, lifespan="off",
                                timeout_keep_alive=30, timeout_graceful_shutdown=3, server_header=False,
                                **tls_args)  # type: ignore[arg-type]
        servers.append((_Server(config), sock))
    loop = asyncio.get_running_loop()

    def stop() -> None:
        for server, _ in servers:
            server.should_exit = True

    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop)
    info = {**endpoints.as_dict(), "tenant_id": settings.tenant_id, "subscription_id": settings.subscription_id,
            "ca_cert": str(tls.ca_cert), "ca_bundle": str(tls.bundle), "data_dir": str(data_dir),
            "database": "in-memory" if settings.in_memory else settings.database_url.split("@")[-1],
            "pid": os.getpid()}
    operator = {"client_id": AZURE_CLI_APP_ID, "client_secret": azmi.services.operator.secret,
                "tenant_id": settings.tenant_id, "object_id": azmi.services.operator.principal.object_id}
    _write_private(data_dir / "operator.json", operator, 0o600)
    tasks = [asyncio.create_task(server.serve(sockets=[sock])) for server, sock in servers]
    while not all(server.started for server, _ in servers):
        if any(t.done() for t in tasks):
            break
        await asyncio.sleep(0.01)
    _write_private(data_dir / "endpoints.json", info, 0o644)
    if on_ready:
        on_ready(azmi)
    async def maintenance() -> None:
        while True:
            await asyncio.sleep(60)
            azmi.services.keyring.rotate_if_due(settings.key_rotation_interval)

    upkeep = asyncio.create_task(maintenance())
    azmi.services.keyring.rotate_if_due(settings.key_rotation_interval)
    try:
        await asyncio.gather(*tasks)
    finally:
        upkeep.cancel()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
        for path in (data_dir / "endpoints.json",):
            try:
                if json.loads(path.read_text()).get("pid") == os.getpid():
                    path.unlink()
            except (OSError, ValueError):
                pass
        store.close()
