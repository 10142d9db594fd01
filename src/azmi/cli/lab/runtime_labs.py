"""Labs on the token at run time: it comes from IMDS (never from the app calling Entra), the SDK caches
it, IMDS throttles and the SDK retries, and a clock skewed beyond 5 minutes makes tokens unusable."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import httpx

from azmi.cli.fault import CLOCK, FAULTS
from azmi.cli.lab.core import Lab, LabRun
from azmi.cli.lab.setup import (IMDS_QUERY, IMDS_TOKEN_PATH, SECRET_VALUE, claims, grant, imds_url, principal_of,
                                read_secret, skew, vault_with_secret, vm)
from azmi.cli.resources import VM

RECORD = '''
import requests
SEEN = []
_send = requests.Session.send
def _recording_send(self, request, **kw):
    response = _send(self, request, **kw)
    SEEN.append({"method": request.method, "url": request.url, "status": response.status_code,
                 "retry_after": response.headers.get("Retry-After")})
    return response
requests.Session.send = _recording_send
'''

FROM_IMDS = RECORD + '''
import os
from azure.identity import ManagedIdentityCredential
secrets = [k for k in ("AZURE_CLIENT_ID", "AZURE_CLIENT_SECRET", "AZURE_TENANT_ID", "AZURE_CLIENT_CERTIFICATE_PATH",
                       "AZURE_USERNAME", "AZURE_PASSWORD", "AZURE_FEDERATED_TOKEN_FILE") if os.environ.get(k)]
token = ManagedIdentityCredential().get_token("https://vault.azure.net/.default").token
result(token=token, seen=SEEN, secrets=secrets)
'''

CACHING = RECORD + '''
from azure.identity import ManagedIdentityCredential
cred = ManagedIdentityCredential()
tokens = [cred.get_token("https://vault.azure.net/.default") for _ in range(P["n"])]
first = len(SEEN)
ManagedIdentityCredential().get_token("https://vault.azure.net/.default")
result(same=len({t.token for t in tokens}) == 1, first=first, total=len(SEEN), expires_on=tokens[0].expires_on)
'''

BURST = RECORD + '''
import time
from azure.identity import ManagedIdentityCredential
start, ok = time.monotonic(), 0
for _ in range(P["n"]):
    ManagedIdentityCredential().get_token("https://vault.azure.net/.default")
    ok += 1
result(ok=ok, seen=SEEN, seconds=round(time.monotonic() - start, 1))
'''


def _short_path(url: str) -> str:
    parts = urlsplit(url)
    segments = parts.path.split("/")
    if len(segments) > 2 and segments[1] and not segments[1].startswith("metadata"):
        segments[1] = segments[1][:6] + "…"  # the VM's IMDS key
    return f"{parts.scheme}://{parts.netloc}{'/'.join(segments)}?{parts.query}"


def token_from_imds(run: LabRun) -> None:
    v = vm(run, "vm1")
    login = run.arm.endpoints.login
    run.section("On vm1: the app asks for a token; Entra's login endpoint is pointed nowhere")
    run.say("AZURE_AUTHORITY_HOST=https://login.invalid  (no client id, secret or certificate in the environment)")
    run.say("on vm1: ManagedIdentityCredential().get_token(\"https://vault.azure.net/.default\")")
    out = run.python(v["id"], FROM_IMDS, extra_env={"AZURE_AUTHORITY_HOST": "https://login.invalid"})
    seen: list[dict[str, Any]] = out["seen"]
    run.say("every request the app made (recorded in the app's process):")
    for s in seen:
        run.request(f"{s['method']} {_short_path(s['url'])}")
        run.response(s["status"])
    run.say("(that host is azmi's IMDS for vm1, its AZURE_POD_IDENTITY_AUTHORITY_HOST: 169.254.169.254 in Azure)")
    c = claims(out["token"])
    run.say(f"token: iss={c.get('iss')} aud={c.get('aud')} oid={c.get('oid')}")
    run.expect(not out["secrets"], f"the app's environment holds credentials: {out['secrets']}")
    run.expect(len(seen) == 1 and urlsplit(seen[0]["url"]).path.endswith(IMDS_TOKEN_PATH),
               f"expected exactly one request, to IMDS: {seen}")
    run.expect(not any(s["url"].startswith((login, "https://login")) for s in seen), "the app called Entra")
    run.expect(c.get("oid") == principal_of(v), "the token is not vm1's identity")
    run.outcome("one request, to IMDS; none to Entra. The token is Entra-issued (iss), fetched for the app by IMDS.")


def token_caching(run: LabRun) -> None:
    v = vm(run, "vm1")
    n = 5
    run.section(f"On vm1: one credential, {n} get_token calls; then a second credential")
    run.code("cred = ManagedIdentityCredential()",
             f"for _ in range({n}): cred.get_token(\"https://vault.azure.net/.default\")",
             "ManagedIdentityCredential().get_token(\"https://vault.azure.net/.default\")  # a new instance")
    out = run.python(v["id"], CACHING, n=n)
    now = int(run.arm.get(CLOCK, None)["now"])
    run.say(f"IMDS requests for {n} calls: {out['first']}; after the new instance: {out['total']}")
    run.say(f"the token expires in ~{int(out['expires_on']) - now} s (azmi's token lifetime)")
    run.expect(out["same"], "the cached calls returned different tokens")
    run.expect(out["first"] == 1, f"{n} get_token calls should make 1 IMDS request, made {out['first']}")
    run.expect(out["total"] == 2, f"a new credential instance has its own cache: expected 2 requests, {out['total']}")
    run.outcome(f"{n} calls, 1 request: the SDK caches per credential instance until shortly before expiry.")


def imds_throttling(run: LabRun) -> None:
    v = vm(run, "vm1")
    saved = run.arm.get(FAULTS, None)
    restore = {"imdsRateLimit": saved.get("imdsRateLimit", 0), "imdsMaxConcurrent": saved.get("imdsMaxConcurrent", 0)}
    run.on_cleanup(lambda: run.arm.request("POST", FAULTS, body=restore))
    run.cmd("azmi fault set --imds-rate-limit 1   # 1 token request per second per VM (Azure: 20)")
    run.arm.request("POST", FAULTS, body={"imdsRateLimit": 1, "imdsMaxConcurrent": 0})
    base = imds_url(run, v["id"])
    run.section("A burst of 3 raw requests from vm1")
    statuses = []
    for _ in range(3):
        r = httpx.get(f"{base}{IMDS_TOKEN_PATH}?{IMDS_QUERY}", headers={"Metadata": "true"}, timeout=30)
        statuses.append(r.status_code)
        extra = f" Retry-After: {r.headers['retry-after']}" if "retry-after" in r.headers else ""
        run.response(f"{r.status_code}{extra}", r.json(), ("error", "error_description", "expires_in"))
    run.expect(429 in statuses, f"a burst over the limit should get 429: {statuses}")
    run.section("The SDK: 3 fresh credentials in a row (no cache to help)")
    out = run.python(v["id"], BURST, n=3)
    for s in out["seen"]:
        extra = f" Retry-After: {s['retry_after']}" if s.get("retry_after") else ""
        run.response(f"{s['status']}{extra}")
    codes = [s["status"] for s in out["seen"]]
    run.expect(out["ok"] == 3, "the SDK did not get all three tokens")
    run.expect(429 in codes and codes[-1] == 200, f"expected 429s retried to success, saw {codes}")
    run.cmd("azmi fault set --imds-rate-limit 0")
    run.outcome(f"429 + Retry-After; azure-identity retried and got all 3 tokens in {out['seconds']} s.")


def clock_skew(run: LabRun) -> None:
    kv = vault_with_secret(run)
    v = vm(run, "vm1")
    grant(run, "Key Vault Secrets User", principal_of(v), kv["id"])
    base = imds_url(run, v["id"])
    run.section("vm1's clock runs 7 minutes ahead")
    skew(run, VM, "vm1", "7m", 420)
    now = int(run.arm.get(CLOCK, None)["now"])
    tok = httpx.get(f"{base}{IMDS_TOKEN_PATH}?{IMDS_QUERY}", headers={"Metadata": "true"}, timeout=30).json()
    nbf = int(claims(tok["access_token"])["nbf"])
    run.say(f"its token: nbf = now + {nbf - now} s (Key Vault tolerates 300 s)")
    ahead = read_secret(run, v["id"], kv, "vm1")
    text = f"{ahead.get('message')}".lower()
    run.expect(ahead.get("status") == 401, f"a 7-minute skew should get 401 from Key Vault, got {ahead}")
    run.expect("nbf" in text or "not valid yet" in text or "not yet valid" in text, f"401 does not name nbf: {text}")
    run.section("Within tolerance: 3 minutes ahead")
    skew(run, VM, "vm1", "3m", 180)
    ok = read_secret(run, v["id"], kv, "vm1")
    run.expect(ok.get("value") == SECRET_VALUE, f"a 3-minute skew should be accepted: {ok}")
    run.outcome("7 min off: Key Vault answers 401 (token not valid yet); 3 min off: 200.")


LABS = [
    Lab("token-from-imds", "The app never calls Entra: the token comes from IMDS",
        "The app asks IMDS (169.254.169.254); IMDS gets the token from Entra for it. No secrets in the app.",
        token_from_imds),
    Lab("token-caching", "N get_token calls, one request: the SDK caches the token",
        "Reuse one credential: the SDK caches its token (1 h by default) and refreshes before expiry.",
        token_caching),
    Lab("imds-throttling", "IMDS throttles bursts with 429; the SDK retries",
        "IMDS limits identity requests (20/s per VM); cache tokens, and let the SDK retry 429s.",
        imds_throttling),
    Lab("clock-skew", "A clock more than 5 minutes off makes tokens unusable",
        "Keep clocks in sync: beyond a 5-minute skew, services reject the token's nbf/exp.", clock_skew),
]
