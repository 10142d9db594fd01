"""`azmi fault` and `azmi clock`: azmi's fault and fidelity controls (operator only, no az equivalent).

- `fault show|set|clear` read and change `{arm}/azmi/faults`: fail the next N identity-endpoint
  requests with a status, a random transient-failure rate, slow responses, IMDS throttling
  (requests per second and concurrent requests per resource; 429 with `Retry-After`).
  `clear` turns all of them off, the IMDS limits of `--profile azure` included.
- `clock show|advance` read and move azmi's clock (`{arm}/azmi/clock`): `advance 2h` makes every
  token azmi issued an hour ago look expired to azmi's services, without waiting.
- Durations are `90s`, `7m`, `2h`, `1d` or plain seconds; a clock skew may be negative (`-3m`).
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import click

from azmi.cli.common import az_command
from azmi.cli.context import Session

FAULTS = "/azmi/faults"
CLOCK = "/azmi/clock"
_DURATION = re.compile(r"^([+-]?)(\d+)([smhd]?)$")
_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}
CLEAR = {"failNext": {"count": 0}, "transientFailureRate": 0, "slowResponseMs": 0, "imdsRateLimit": 0,
         "imdsMaxConcurrent": 0}


def parse_duration(text: str, *, signed: bool = False) -> int:
    """`7m` -> 420, `-3m` -> -180 (when `signed`), `90s` -> 90, `0` -> 0; ValueError otherwise."""
    m = _DURATION.match(text.strip().lower())
    if not m or (m.group(1) == "-" and not signed):
        kind = "a signed duration" if signed else "a duration"
        raise ValueError(f"'{text}' is not {kind} (use e.g. 90s, 7m, 2h{', -3m' if signed else ''})")
    seconds = int(m.group(2)) * _UNITS[m.group(3)]
    return -seconds if m.group(1) == "-" else seconds


def fault_body(fail_next: int | None, status: int | None, transient_rate: float | None, slow_ms: int | None,
               imds_rate_limit: int | None, imds_max_concurrent: int | None) -> dict[str, Any]:
    """The POST body for `fault set`: only what was given."""
    body: dict[str, Any] = {}
    if status is not None and fail_next is None:
        raise click.UsageError("--status goes with --fail-next N")
    if fail_next is not None:
        body["failNext"] = {"count": fail_next, "status": status or 503}
    for key, value in (("transientFailureRate", transient_rate), ("slowResponseMs", slow_ms),
                       ("imdsRateLimit", imds_rate_limit), ("imdsMaxConcurrent", imds_max_concurrent)):
        if value is not None:
            body[key] = value
    if not body:
        raise click.UsageError("give at least one of --fail-next, --transient-rate, --slow-ms, --imds-rate-limit, "
                               "--imds-max-concurrent")
    return body


def clock_view(body: Any) -> dict[str, Any]:
    now = int((body or {}).get("now", 0))
    return {"now": now, "utc": dt.datetime.fromtimestamp(now, dt.timezone.utc).isoformat()}


def advance_clock(sess: Session, seconds: int) -> dict[str, Any]:
    arm = sess.arm()
    _, body = arm.request("POST", CLOCK, body={"advanceSeconds": seconds})
    arm._tokens.clear()  # the operator's own tokens may now be expired as azmi sees them
    return clock_view(body)


def set_clock_skew(sess: Session, resource_id: str, seconds: int) -> dict[str, Any]:
    _, body = sess.arm().request("PUT", f"{FAULTS}/clockSkew", body={"seconds": seconds},
                                 params={"resourceId": resource_id})
    return dict(body or {})


@click.group("fault", help="Inject faults into azmi's identity endpoints (IMDS, App Service).")
def fault() -> None:
    pass


@az_command(fault, "show", help="Show the faults in effect.")
def show(sess: Session) -> Any:
    return sess.arm().get(FAULTS, None)


@az_command(fault, "set", help="Turn faults on: failures, slow responses, IMDS throttling (429 + Retry-After).")
@click.option("--fail-next", type=click.IntRange(0, 1000), help="Fail the next N token requests.")
@click.option("--status", type=click.IntRange(400, 599), help="Status of those failures (default 503).")
@click.option("--transient-rate", type=click.FloatRange(0, 1), help="Share of token requests that fail transiently "
                                                                     "(500, 503, 410).")
@click.option("--slow-ms", type=click.IntRange(0, 120_000), help="Delay added to every token response.")
@click.option("--imds-rate-limit", type=click.IntRange(0), help="IMDS token requests per second per resource "
                                                                  "(Azure: 20; 0 = unlimited).")
@click.option("--imds-max-concurrent", type=click.IntRange(0), help="Concurrent IMDS token requests per resource "
                                                                      "(Azure: 5; 0 = unlimited).")
def set_cmd(sess: Session, fail_next: int | None, status: int | None, transient_rate: float | None,
            slow_ms: int | None, imds_rate_limit: int | None, imds_max_concurrent: int | None) -> Any:
    body = fault_body(fail_next, status, transient_rate, slow_ms, imds_rate_limit, imds_max_concurrent)
    return sess.arm().request("POST", FAULTS, body=body)[1]


@az_command(fault, "clear", help="Turn every fault off (also the IMDS limits of --profile azure).")
def clear(sess: Session) -> Any:
    return sess.arm().request("POST", FAULTS, body=CLEAR)[1]


@click.group("clock", help="Show or move azmi's clock (tokens expire as azmi's services see it).")
def clock() -> None:
    pass


@az_command(clock, "show", help="Show azmi's current time.")
def clock_show(sess: Session) -> Any:
    return clock_view(sess.arm().get(CLOCK, None))


def _duration_arg(ctx: click.Context, param: click.Parameter, value: str) -> int:
    try:
        return parse_duration(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc), ctx=ctx, param=param) from exc


@az_command(clock, "advance", help="Move azmi's clock forward, e.g. `azmi clock advance 2h`.")
@click.argument("duration", callback=_duration_arg)
def clock_advance(sess: Session, duration: int) -> Any:
    return advance_clock(sess, duration)
