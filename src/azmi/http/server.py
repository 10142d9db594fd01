"""Runs azmi: binds every surface, serves them on one event loop, records where they listen.

`{data_dir}/endpoints.json` tells the CLI where azmi is; `{data_dir}/operator.json` (0600)
holds the operator's sign-in secret. Vaults are served on ports of their own, started and
stopped as vaults come and go (SO_REUSEPORT, so several nodes on one host can share them).
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import signal
import socket
import ssl
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, Iterator

import uvicorn

from azmi.clock import Clock, SystemClock
from azmi.http.app import HTTPS_SURFACES, Azmi, create_app
from azmi.http.endpoints import Endpoints
from azmi.http.fastserver import FastServer
from azmi.http.wire import AsgiAdapter
from azmi.pki import TlsFiles, ensure_tls
from azmi.settings import Settings
from azmi.store import Store
from azmi.tokens.claims import AZURE_CLI_APP_ID

log = logging.getLogger("azmi")
SURFACES = ("arm", "login", "imds", "appservice", "blob")


class _Server(uvicorn.Server):
    @contextmanager
    def capture_signals(self) -> Iterator[None]:  # the runner owns signals for all surfaces
        yield


def bind(host: str, port: int, *, share: bool = False) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    # Accepted sockets inherit TCP_NODELAY: without it a keep-alive response written as headers + body waits
    # for the client's delayed ACK (~40 ms per request).
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    if share and hasattr(socket, "SO_REUSEPORT"):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise SystemExit(f"ERROR: cannot listen on {host}:{port}: {exc.strerror}. Is another azmi running? "
                         "Choose other ports with --port-base or AZMI_*_PORT.") from None
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def _write_private(path: Path, data: dict[str, object], mode: int) -> None:
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "w") as f:
        json.dump(data, f, indent=2)
    os.replace(tmp, path)


def shared_tls(store: Store, data_dir: Path, host: str) -> TlsFiles:
    """One CA for every node of a store: kept in the store (like the signing keys), copied to each node."""
    with store.begin() as tx:
        cert, key = tx.get_meta("tls_ca_cert"), tx.get_meta("tls_ca_key")
    if cert and key:
        for name, text in (("ca.pem", cert), ("ca-key.pem", key)):
            path = data_dir / name
            if not path.exists() or path.read_text() != text:
                _write_text(path, text, 0o600 if name == "ca-key.pem" else 0o644)
    tls = ensure_tls(data_dir, [host])
    if not (cert and key):
        with store.begin() as tx:
            tx.lock_control_plane()
            if tx.get_meta("tls_ca_cert") is None:
                tx.set_meta("tls_ca_cert", tls.ca_cert.read_text())
                tx.set_meta("tls_ca_key", (data_dir / "ca-key.pem").read_text())
        return shared_tls(store, data_dir, host) if _raced(store, tls) else tls
    return tls


def _raced(store: Store, tls: TlsFiles) -> bool:
    """Another node stored its CA first: adopt that one."""
    with store.begin() as tx:
        return tx.get_meta("tls_ca_cert") != tls.ca_cert.read_text()


def _write_text(path: Path, text: str, mode: int) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "w") as f:
        f.write(text)
    os.replace(tmp, path)


class _FastListener:
    """The identity endpoints' own HTTP server (fastserver.py), with the uvicorn.Server interface Runner uses."""

    def __init__(self, handler: Any, max_body: int, ssl_context: Any, streaming: bool = False) -> None:
        self.fast = FastServer(handler, max_body, ssl_context, streaming)
        self.started = False
        self._exit: asyncio.Event | None = None

    @property
    def should_exit(self) -> bool:
        return self._exit is not None and self._exit.is_set()

    @should_exit.setter
    def should_exit(self, value: bool) -> None:
        if value and self._exit is not None:
            self._exit.set()

    async def serve(self, sockets: list[socket.socket]) -> None:
        self._exit = asyncio.Event()
        await self.fast.start(sockets[0])
        self.started = True
        await self._exit.wait()
        await self.fast.stop()


class Runner:
    """The listening servers of one azmi process."""

    def __init__(self, settings: Settings, tls: TlsFiles) -> None:
        self.settings = settings
        self.tls = tls
        self.servers: dict[str, tuple[Any, asyncio.Task[None]]] = {}

    def start(self, name: str, app: Any, sock: socket.socket, https: bool) -> None:
        if isinstance(app, AsgiAdapter):  # identity endpoints, vaults and Blob: served without the ASGI cycle
            listener = _FastListener(app.handler, app.max_body, self._ssl() if https else None, app.streaming)
            self.servers[name] = (listener, asyncio.create_task(listener.serve([sock])))
            return
        tls_args: dict[str, Any] = dict(ssl_certfile=str(self.tls.leaf_cert), ssl_keyfile=str(self.tls.leaf_key)) \
            if https else {}
        # timeout_graceful_shutdown: an idle keep-alive TLS client never answers close_notify, and would
        # otherwise hold a stop for asyncio's 30 s SSL shutdown timeout
        config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off", timeout_keep_alive=30,
                                timeout_graceful_shutdown=3, server_header=False, proxy_headers=False, **tls_args)
        server = _Server(config)
        self.servers[name] = (server, asyncio.create_task(server.serve(sockets=[sock])))

    def _ssl(self) -> ssl.SSLContext:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(str(self.tls.leaf_cert), str(self.tls.leaf_key))
        return context

    async def stop(self, name: str) -> None:
        server, task = self.servers.pop(name)
        server.should_exit = True
        await task

    async def wait_started(self) -> None:
        while not all(s.started or t.done() for s, t in self.servers.values()):
            await asyncio.sleep(0.01)

    def stop_all(self) -> None:
        for server, _ in self.servers.values():
            server.should_exit = True


async def serve(settings: Settings, *, clock: Clock | None = None,
                on_ready: Callable[[Azmi], None] | None = None) -> None:
    data_dir = settings.data_dir
    data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    store = Store(settings.database_url)
    tls = shared_tls(store, data_dir, settings.host)
    # the blob listener is shared by every node on one host, as the vaults' are (SO_REUSEPORT)
    sockets = {name: bind(settings.host, getattr(settings.ports, name), share=name == "blob") for name in SURFACES}
    shown_host = f"[{settings.host}]" if ":" in settings.host else settings.host
    endpoints = Endpoints(**{name: f"{'https' if name in HTTPS_SURFACES else 'http'}://{shown_host}:"
                                   f"{sock.getsockname()[1]}" for name, sock in sockets.items()})
    azmi = create_app(settings, store, clock or SystemClock(), endpoints, str(tls.bundle))
    azmi.services.start_change_feed()
    runner = Runner(settings, tls)
    for name, sock in sockets.items():
        runner.start(name, azmi.apps[name], sock, name in HTTPS_SURFACES)
    loop = asyncio.get_running_loop()
    reconciling = asyncio.Lock()

    async def reconcile_vaults() -> None:
        async with reconciling:
            wanted = {f"vault:{p}" for p in await asyncio.to_thread(azmi.services.keyvault.ports)}
            for name in [n for n in runner.servers if n.startswith("vault:") and n not in wanted]:
                await runner.stop(name)
            for name in sorted(wanted - set(runner.servers)):
                try:
                    sock = bind(settings.host, int(name.split(":")[1]), share=True)
                except SystemExit as exc:
                    log.error("vault listener %s: %s", name, exc)
                    continue
                runner.start(name, azmi.apps["keyvault"], sock, https=True)
            await runner.wait_started()

    azmi.services.vault_listeners.append(
        lambda: loop.call_soon_threadsafe(lambda: loop.create_task(reconcile_vaults())))
    await reconcile_vaults()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, runner.stop_all)
    info = {**endpoints.as_dict(), "tenant_id": settings.tenant_id, "subscription_id": settings.subscription_id,
            "ca_cert": str(tls.ca_cert), "ca_bundle": str(tls.bundle), "data_dir": str(data_dir),
            "database": "in-memory" if settings.in_memory else settings.database_url.split("@")[-1],
            "pid": os.getpid()}
    operator = {"client_id": AZURE_CLI_APP_ID, "client_secret": azmi.services.operator.secret,
                "tenant_id": settings.tenant_id, "object_id": azmi.services.operator.principal.object_id}
    _write_private(data_dir / "operator.json", operator, 0o600)
    await runner.wait_started()
    _write_private(data_dir / "endpoints.json", info, 0o644)
    if on_ready:
        on_ready(azmi)

    async def maintenance() -> None:
        while True:
            await asyncio.sleep(60)
            await asyncio.to_thread(azmi.services.keyring.rotate_if_due, settings.key_rotation_interval)

    upkeep = asyncio.create_task(maintenance())
    azmi.services.keyring.rotate_if_due(settings.key_rotation_interval)
    try:
        while runner.servers and not all(t.done() for _, t in runner.servers.values()):
            await asyncio.gather(*[t for _, t in list(runner.servers.values())])
    finally:
        upkeep.cancel()
        azmi.services.feed.stop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
        path = data_dir / "endpoints.json"
        try:
            if json.loads(path.read_text()).get("pid") == os.getpid():
                path.unlink()
        except (OSError, ValueError):
            pass
        azmi.services.blobs.files.close()  # in-memory mode: the temporary content directory goes too
        store.close()
