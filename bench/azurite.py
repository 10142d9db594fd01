"""The real Azurite as a comparison for the Blob figure: same request, same token, same load, same run."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.sdk.test_blob_azurite import azurite_binary  # noqa: E402  (one installer for tests and bench)


class Azurite:
    def __init__(self, cert: Path, key: Path) -> None:
        binary = azurite_binary()
        if binary is None:
            raise RuntimeError("Azurite is not available (npm is needed to install it)")
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = int(s.getsockname()[1])
        self.dir = Path(tempfile.mkdtemp(prefix="azmi-bench-azurite-"))
        self.proc = subprocess.Popen([str(binary), "--blobHost", "127.0.0.1", "--blobPort", str(self.port),
                                      "--oauth", "basic", "--cert", str(cert), "--key", str(key),
                                      "--skipApiVersionCheck", "--location", str(self.dir), "--silent"],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError("Azurite did not start") from None
                time.sleep(0.2)

    @property
    def account_url(self) -> str:
        return f"https://127.0.0.1:{self.port}/devstoreaccount1/"

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=10)
        shutil.rmtree(self.dir, ignore_errors=True)
