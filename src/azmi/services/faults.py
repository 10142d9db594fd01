"""Fault injection for the identity endpoints: IMDS throttling and transient failures.

IMDS allows 20 identity requests per second and 5 concurrent ones per VM; beyond that it
answers 429 (azure-wire.md §1.5). Transient failures (5xx, 410 "IMDS is updating") and slow
responses are opt-in, by rate (seeded dice) or exactly for the next N requests, so tests of a
client's retry logic are reproducible. Everything is off by default.
"""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass

from azmi.clock import Clock
from azmi.errors import InvalidInput
from azmi.settings import Settings


@dataclass(frozen=True)
class Failure:
    status: int
    delay_ms: int = 0


class _Bucket:
    def __init__(self, rate: int, now: float) -> None:
        self.tokens = float(rate)
        self.stamp = now


class Faults:
    def __init__(self, settings: Settings, clock: Clock) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self.rate_limit = settings.imds_rate_limit
        self.max_concurrent = settings.imds_max_concurrent
        self.failure_rate = settings.transient_failure_rate
        self.statuses = settings.transient_statuses
        self.slow_ms = settings.slow_response_ms
        self._dice = random.Random(settings.fault_seed)
        self._buckets: dict[str, _Bucket] = {}
        self._in_flight: dict[str, int] = {}
        self._fail_next: list[int] = []
        self._fixed = {"profile": settings.profile, "rbacPropagationDelay": settings.rbac_propagation_delay,
                       "tokenLifetime": settings.token_lifetime}

    @property
    def armed(self) -> bool:
        """Whether any transient failure or delay may be injected (the hot path checks this first)."""
        return bool(self._fail_next or self.failure_rate or self.slow_ms)

    # -- throttling ------------------------------------------------------------------------------------------
    def admit(self, resource_key: str) -> int | None:
        """None when the request may proceed; otherwise the Retry-After seconds of a 429."""
        if not self.rate_limit and not self.max_concurrent:
            return None
        now = self._clock.now()
        with self._lock:
            if self.max_concurrent and self._in_flight.get(resource_key, 0) >= self.max_concurrent:
                return 1
            if self.rate_limit:
                b = self._buckets.setdefault(resource_key, _Bucket(self.rate_limit, now))
                b.tokens = min(float(self.rate_limit), b.tokens + (now - b.stamp) * self.rate_limit)
                b.stamp = now
                if b.tokens < 1.0:
                    return 1
                b.tokens -= 1.0
            self._in_flight[resource_key] = self._in_flight.get(resource_key, 0) + 1
        return None

    def release(self, resource_key: str) -> None:
        if not self.rate_limit and not self.max_concurrent:
            return
        with self._lock:
            left = self._in_flight.get(resource_key, 1) - 1
            if left > 0:
                self._in_flight[resource_key] = left
            else:
                self._in_flight.pop(resource_key, None)

    # -- transient failures ----------------------------------------------------------------------------------
    def next_failure(self) -> Failure | None:
        with self._lock:
            if self._fail_next:
                return Failure(self._fail_next.pop(0), self.slow_ms)
            if self.failure_rate and self._dice.random() < self.failure_rate:
                return Failure(self._dice.choice(self.statuses), self.slow_ms)
        return Failure(0, self.slow_ms) if self.slow_ms else None

    def configure(self, body: object) -> dict[str, object]:
        """The admin control: {"failNext": {"count": n, "status": s}, "transientFailureRate": r,
        "slowResponseMs": ms, "imdsRateLimit": n, "imdsMaxConcurrent": n} (each optional)."""
        if not isinstance(body, dict):
            raise InvalidInput("The fault configuration must be a JSON object.", code="InvalidRequestContent")
        with self._lock:
            nxt = body.get("failNext")
            if nxt is not None:
                if not isinstance(nxt, dict) or not _int_in(nxt.get("count"), 0, 1000) or \
                        not _int_in(nxt.get("status", 503), 400, 599):
                    raise InvalidInput("failNext needs a count (0-1000) and a 4xx/5xx status.",
                                       code="InvalidRequestContent")
                self._fail_next = [int(nxt.get("status", 503))] * int(nxt["count"])
            for key, attr, lo, hi in (("slowResponseMs", "slow_ms", 0, 120_000), ("imdsRateLimit", "rate_limit", 0, 10**6),
                                      ("imdsMaxConcurrent", "max_concurrent", 0, 10**6)):
                if key in body:
                    if not _int_in(body[key], lo, hi):
                        raise InvalidInput(f"{key} must be an integer from {lo} to {hi}.", code="InvalidRequestContent")
                    setattr(self, attr, int(body[key]))
            if "transientFailureRate" in body:
                rate = body["transientFailureRate"]
                if isinstance(rate, bool) or not isinstance(rate, (int, float)) or not 0 <= rate <= 1:
                    raise InvalidInput("transientFailureRate must be a number from 0 to 1.",
                                       code="InvalidRequestContent")
                self.failure_rate = float(rate)
            self._buckets.clear()
        return self.state()

    def state(self) -> dict[str, object]:
        return {**self._fixed, "failNext": len(self._fail_next), "transientFailureRate": self.failure_rate,
                "transientStatuses": list(self.statuses), "slowResponseMs": self.slow_ms,
                "imdsRateLimit": self.rate_limit, "imdsMaxConcurrent": self.max_concurrent}


def _int_in(value: object, lo: int, hi: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and lo <= value <= hi
