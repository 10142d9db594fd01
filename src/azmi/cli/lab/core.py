"""The lab runner: one fresh resource group per lab, printing, checks, clean-up.

A lab is a function of a `LabRun`. It creates what it needs through the CLI's own client
(`Session.arm()`, the command modules' helpers), prints each step as the `azmi` command a learner
would type (`$ ...`), the HTTP exchange that matters (`> request`, `< status body`, tokens
abbreviated), runs the chapter's code with the real SDK in a child Python process that has the
resource's environment (`GET {arm}/azmi/environment`, as `azmi run` gives it), and checks the
outcome with `expect` (a failed check fails the lab: azmi misbehaved). Its resource group is
deleted at the end, also when the lab fails.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from azmi.cli.context import Session
from azmi.cli.errors import CliError
from azmi.cli.resources import rg_path
from azmi.cli.runenv import child_environment, fetch_environment

RG_API = "2022-09-01"
_JWT = re.compile(r"eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+")
Echo = Callable[[str], None]


class LabFailed(Exception):
    """The outcome differs from what Azure does: azmi misbehaved (or the lab is wrong)."""


@dataclass(frozen=True)
class Lab:
    name: str
    title: str
    lesson: str
    body: Callable[["LabRun"], None]


def abbreviate(text: str) -> str:
    """Shorten every JWT in `text` to its first characters and its length."""
    return _JWT.sub(lambda m: f"{m.group(0)[:12]}…({len(m.group(0))} chars)", text)


def compact(body: Any, keys: tuple[str, ...] | None = None, limit: int = 300) -> str:
    """A one-line JSON view of a response body (only `keys` when given), tokens abbreviated."""
    if isinstance(body, dict) and keys:
        body = {k: body[k] for k in keys if k in body}
    text = body if isinstance(body, str) else json.dumps(body, separators=(", ", ": "))
    text = abbreviate(text)
    return text if len(text) <= limit else text[:limit - 1] + "…"


CHILD_PRELUDE = '''
import json, sys
P = json.loads(sys.argv[1])
def result(**kw):
    print("LABRESULT " + json.dumps(kw), flush=True)
def failure(exc):
    out = {"ok": False, "type": type(exc).__name__, "message": str(exc).splitlines()[0] if str(exc) else ""}
    out["status"] = getattr(exc, "status_code", None)
    err = getattr(exc, "error", None)
    out["code"] = getattr(err, "code", None)
    inner = getattr(err, "innererror", None)
    out["inner"] = inner.get("code") if isinstance(inner, dict) else None
    return out
'''


class LabRun:
    """What a lab can do: print, call azmi, run code on a resource, check."""

    def __init__(self, sess: Session, lab: Lab, echo: Echo) -> None:
        self.sess = sess
        self.lab = lab
        self.arm = sess.arm()
        self.sub = sess.subscription_id
        self.rg = f"lab-{lab.name[:24]}-{uuid.uuid4().hex[:6]}"
        self._echo = echo
        self._cleanups: list[Callable[[], None]] = []

    # -- printing ----------------------------------------------------------------------------------------
    def show_id(self, text: str) -> str:
        return text.replace(self.sub, "<sub>")

    def section(self, title: str) -> None:
        self._echo(f"{title}")

    def cmd(self, text: str) -> None:
        self._echo(f"  $ {self.show_id(text)}")

    def say(self, text: str) -> None:
        self._echo(f"  {self.show_id(text)}")

    def code(self, *lines: str) -> None:
        for line in lines:
            self._echo(f"  | {line}")

    def request(self, line: str, headers: dict[str, str] | None = None) -> None:
        self._echo(f"  > {self.show_id(abbreviate(line))}")
        for k, v in (headers or {}).items():
            self._echo(f"  >   {k}: {abbreviate(v)}")

    def response(self, status: Any, body: Any = None, keys: tuple[str, ...] | None = None) -> None:
        tail = f" {compact(body, keys)}" if body not in (None, "") else ""
        self._echo(f"  < {self.show_id(f'{status}{tail}')}")

    def error(self, message: str) -> None:
        """A refused CLI command, as az prints it."""
        self._echo(f"  ERROR: {self.show_id(message)}")

    def outcome(self, text: str) -> None:
        self._echo(f"Outcome: {self.show_id(text)}")

    # -- checks and clean-up --------------------------------------------------------------------------------
    @staticmethod
    def expect(condition: Any, message: str) -> None:
        if not condition:
            raise LabFailed(message)

    def on_cleanup(self, fn: Callable[[], None]) -> None:
        self._cleanups.append(fn)

    def cleanup(self) -> list[str]:
        problems: list[str] = []
        for fn in reversed(self._cleanups):
            try:
                fn()
            except Exception as exc:  # noqa: BLE001 - every clean-up step gets its chance
                problems.append(str(exc))
        try:
            self.arm.request("DELETE", rg_path(self.sub, self.rg), RG_API)
        except CliError as exc:
            if exc.exit_code != 3:
                problems.append(f"deleting {self.rg}: {exc.format_message()}")
        return problems

    # -- azmi, as the operator ------------------------------------------------------------------------------
    def create_group(self) -> None:
        self.cmd(f"azmi group create -n {self.rg} -l eastus")
        self.arm.put(rg_path(self.sub, self.rg), RG_API, {"location": "eastus"})

    def rid(self, provider: str, name: str) -> str:
        return f"/subscriptions/{self.sub}/resourceGroups/{self.rg}/providers/{provider}/{name}"

    # -- code on a resource ----------------------------------------------------------------------------------
    def environment(self, resource_id: str) -> tuple[dict[str, str], list[str]]:
        return fetch_environment(self.sess, resource_id)

    def python(self, resource_id: str | None, code: str, extra_env: dict[str, str] | None = None,
               **params: Any) -> dict[str, Any]:
        """Run `code` in a fresh interpreter on the resource (its `azmi run` environment); the
        dict it reports with `result(...)`. `resource_id=None`: a machine outside Azure."""
        if resource_id is None:
            set_vars, unset = {}, []
        else:
            set_vars, unset = self.environment(resource_id)
        env = child_environment(os.environ, {**set_vars, **(extra_env or {})}, unset)
        try:
            proc = subprocess.run([sys.executable, "-c", CHILD_PRELUDE + code, json.dumps(params)], env=env,
                                  capture_output=True, text=True, timeout=180)
        except subprocess.TimeoutExpired as exc:
            raise LabFailed(f"the code on the resource did not finish in {exc.timeout} s") from None
        lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("LABRESULT ")]
        if not lines:
            tail = (proc.stderr or proc.stdout).strip().splitlines()[-3:]
            raise LabFailed("the code on the resource reported nothing: " + " / ".join(tail))
        return dict(json.loads(lines[-1][len("LABRESULT "):]))


@dataclass
class Summary:
    passed: int = 0
    failed: int = 0

    def line(self) -> str:
        return f"{self.passed} passed, {self.failed} failed"


def run_lab(sess: Session, lab: Lab, echo: Echo, summary: Summary) -> bool:
    started = time.monotonic()
    echo(f"== {lab.name}: {lab.title}")
    run = LabRun(sess, lab, echo)
    failure = ""
    try:
        run.create_group()
        lab.body(run)
        echo(f"Lesson: {lab.lesson}")
    except LabFailed as exc:
        failure = str(exc)
    except CliError as exc:
        failure = f"azmi answered: {exc.format_message()}"
    except Exception as exc:  # noqa: BLE001 - a lab that crashes is a failed lab, the next one still runs
        failure = f"{type(exc).__name__}: {exc}"
    finally:
        problems = run.cleanup()
    echo(f"  $ azmi group delete -n {run.rg} --yes")
    if problems and not failure:
        failure = "clean-up failed: " + "; ".join(problems)
    took = time.monotonic() - started
    if failure:
        summary.failed += 1
        echo(f"FAIL {lab.name} ({took:.1f} s): {abbreviate(failure)}")
    else:
        summary.passed += 1
        echo(f"PASS {lab.name} ({took:.1f} s)")
    echo("")
    return not failure
