"""azmi's own controls (operator only), beside ARM: fault injection, per-resource clock skew, the clock.

- `GET|POST /azmi/faults` — IMDS throttling, transient failures, slow responses (services/faults.py);
- `PUT /azmi/faults/clockSkew?resourceId=ID` `{"seconds": 420}` — tokens for that resource carry skewed times;
- `GET /azmi/clock`, `POST /azmi/clock` `{"advanceSeconds": 3600}` — jump past a token's expiry without waiting.
"""

from __future__ import annotations

from typing import Any

from azmi import errors as e
from azmi.ids import parse_resource_id

MAX_ADVANCE = 400 * 86400


def handle(svc: Any, kind: str, method: str, body: Any, query: dict[str, str]) -> tuple[int, Any]:
    if kind == "faults":
        return 200, svc.faults.configure(body) if method == "POST" else svc.faults.state()
    if kind == "clock_skew":
        rid = parse_resource_id(query.get("resourceId", ""), what="resourceId")
        seconds = body.get("seconds") if isinstance(body, dict) else None
        if isinstance(seconds, bool) or not isinstance(seconds, int):
            raise e.InvalidInput("The body must be {\"seconds\": <integer>}.", code="InvalidRequestContent")
        r = svc.control.set_clock_skew(rid, seconds)
        return 200, {"resourceId": str(r.id), "clockSkewSeconds": r.clock_skew}
    if method == "POST":
        advance = body.get("advanceSeconds") if isinstance(body, dict) else None
        if isinstance(advance, bool) or not isinstance(advance, int) or not 0 <= advance <= MAX_ADVANCE:
            raise e.InvalidInput(f"advanceSeconds must be an integer from 0 to {MAX_ADVANCE}.",
                                 code="InvalidRequestContent")
        if not hasattr(svc.clock, "advance"):
            raise e.InvalidInput("This clock cannot be advanced.", code="InvalidRequestContent")
        svc.clock.advance(advance)
    return 200, {"now": int(svc.clock.now())}
