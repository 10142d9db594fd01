"""The benchmark suite still runs end to end (smoke mode: brief, small; no timing is asserted)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FIGURES = ("1. IMDS cached token: req/s", "2. App Service cached token: req/s", "3. cold minting: tokens/s",
           "4. Key Vault GET secret (verify + authorize): req/s", "5. Blob GET 1 KiB (bearer): req/s",
           "7. azmi up to ready")


@pytest.mark.skipif(any(shutil.which(t) is None for t in ("wrk", "nginx", "openssl")),
                    reason="wrk, nginx and openssl are needed (scripts/test installs them when run as root)")
def test_benchmark_smoke_run_produces_every_figure(tmp_path: Path) -> None:
    out = tmp_path / "results.json"
    done = subprocess.run([sys.executable, str(ROOT / "bench" / "bench.py"), "--smoke", "--out", str(out)],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    results = json.loads(out.read_text())
    names = {r["figure"] for r in results["figures"]}
    for figure in FIGURES:
        assert figure in names
    measured = {r["figure"]: r for r in results["figures"]}
    assert measured["1. IMDS cached token: req/s"]["azmi"] > 0
    assert measured["1. IMDS cached token: req/s"]["baseline"] > 0
    caching = [r for r in results["figures"] if r["figure"].startswith("8.")][0]
    assert caching["azmi"] == 1, "the SDK's token cache should make exactly one request"
