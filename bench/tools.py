"""Load and baseline tools the benchmark drives: wrk, nginx, openssl speed. Each returns plain numbers."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
import textwrap
import time
from dataclasses import dataclass
from pathlib import Path


@dataclass
class Load:
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int
    cores: float | None = None  # CPU the measured process used during the run, in cores (1.0 = one busy core)
    cpu_us_per_request: float | None = None


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process (all its threads) so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _ms(text: str) -> float:
    m = re.match(r"([\d.]+)(us|ms|s)", text)
    if not m:
        return float("nan")
    value, unit = float(m.group(1)), m.group(2)
    return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value


def wrk(url: str, *, seconds: float, connections: int = 32, threads: int = 1, headers: dict[str, str] | None = None,
        lua: str = "", warmup: float = 1.0, pid: int | None = None) -> Load:
    """Run wrk once to warm up (not counted), then the measured run; with `pid`, also the CPU that process used."""
    script = ""
    for k, v in (headers or {}).items():
        script += f'wrk.headers["{k}"] = "{v}"\n'
    script += lua
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
        f.write(script)
    base = ["wrk", f"-t{threads}", f"-c{connections}", "--latency", "-s", f.name]
    if warmup:
        subprocess.run(base + [f"-d{max(warmup, 1):.0f}s", url], capture_output=True, text=True, timeout=120)
    cpu0, t0 = (cpu_seconds(pid), time.monotonic()) if pid else (0.0, 0.0)
    out = subprocess.run(base + [f"-d{max(seconds, 1):.0f}s", url], capture_output=True, text=True, timeout=600).stdout
    cpu, wall = (cpu_seconds(pid) - cpu0, time.monotonic() - t0) if pid else (0.0, 0.0)
    Path(f.name).unlink()
    if not re.search(r"\n\s+50%\s+[\d.]+(us|ms|s)\n", out):
        raise RuntimeError(f"wrk completed no request against {url}:\n{out[-1500:]}")
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    # anchored: "89.50%" in the thread-stats lines must not be read as the 50th percentile
    p50 = _ms(re.search(r"^\s+50%\s+(\S+)", out, re.MULTILINE).group(1))  # type: ignore[union-attr]
    p99 = _ms(re.search(r"^\s+99%\s+(\S+)", out, re.MULTILINE).group(1))  # type: ignore[union-attr]
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    socket_errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    errors = int(bad.group(1)) if bad else 0
    if socket_errors:
        errors += sum(int(x) for x in socket_errors.groups())
    if not pid:
        return Load(rps, p50, p99, errors)
    return Load(rps, p50, p99, errors, round(cpu / wall, 2), round(cpu * 1e6 / max(rps * wall, 1), 1))


def wrk_together(urls: list[str], **kwargs: object) -> list[Load]:
    """Several wrk runs at the same time (one per target), for a combined-throughput figure."""
    from concurrent.futures import ThreadPoolExecutor
    with ThreadPoolExecutor(max_workers=len(urls)) as pool:
        return list(pool.map(lambda u: wrk(u, **kwargs), urls))  # type: ignore[arg-type]


class Nginx:
    """nginx serving fixed files for the same URLs, over HTTP and HTTPS (azmi's own certificate)."""

    def __init__(self, files: dict[str, bytes], cert: Path, key: Path) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="azmi-bench-nginx-"))
        for name, body in files.items():
            (self.dir / name).write_bytes(body)
        self.http_port, self.https_port = _free_port(), _free_port()
        locations = "\n".join(f"    location = /{n} {{ default_type application/json; alias {self.dir / n}; }}"
                              for n in files)
        conf = textwrap.dedent(f"""
            worker_processes auto;
            pid {self.dir}/nginx.pid;
            error_log {self.dir}/error.log;
            events {{ worker_connections 4096; }}
            http {{
              access_log off;
              keepalive_requests 10000000;
              server {{
                listen 127.0.0.1:{self.http_port};
                listen 127.0.0.1:{self.https_port} ssl;
                ssl_certificate {cert};
                ssl_certificate_key {key};
            {locations}
              }}
            }}""")
        (self.dir / "nginx.conf").write_text(conf)
        subprocess.run(["nginx", "-c", str(self.dir / "nginx.conf")], check=True)
        time.sleep(0.3)

    def url(self, name: str, https: bool = False) -> str:
        return (f"https://127.0.0.1:{self.https_port}/{name}" if https
                else f"http://127.0.0.1:{self.http_port}/{name}")

    def stop(self) -> None:
        subprocess.run(["nginx", "-c", str(self.dir / "nginx.conf"), "-s", "stop"], capture_output=True)
        shutil.rmtree(self.dir, ignore_errors=True)


def openssl_rsa2048(seconds: int) -> tuple[float, float]:
    """(sign/s, verify/s) of RSA-2048 on one core."""
    out = subprocess.run(["openssl", "speed", "-seconds", str(seconds), "rsa2048"], capture_output=True,
                         text=True, timeout=120).stdout
    line = [ln for ln in out.splitlines() if ln.strip().startswith("rsa 2048")][-1]
    numbers = re.findall(r"[\d.]+", line)
    return float(numbers[-2]), float(numbers[-1])


def _free_port() -> int:
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def have(*tools: str) -> list[str]:
    return [t for t in tools if shutil.which(t) is None]
