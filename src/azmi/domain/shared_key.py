"""Shared Key authorization for Blob Storage: the string Azure signs (pure).

"Authorize with Shared Key" (Storage REST docs), version 2009-09-19 and later:

    VERB \n Content-Encoding \n Content-Language \n Content-Length (empty when 0) \n Content-MD5 \n
    Content-Type \n Date \n If-Modified-Since \n If-Match \n If-None-Match \n If-Unmodified-Since \n
    Range \n CanonicalizedHeaders CanonicalizedResource

CanonicalizedHeaders are the `x-ms-*` headers, lower-cased, sorted with the service's own
culture-aware ordering (the one `azure-storage-blob` reproduces in `_shared/authentication.py`,
where `-` weighs less than letters), one `name:value\n` each. CanonicalizedResource is
`/<account><path>` followed by `\n<name>:<value>` per query parameter, names lower-cased and sorted,
values URL-decoded. On a path-style URL (`https://127.0.0.1:PORT/<account>/...`) the path already
starts with the account, so the SDK signs `/<account>/<account>/...`; `candidates` yields both forms.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from functools import cmp_to_key
from typing import Iterable, Mapping, Sequence
from urllib.parse import unquote

STANDARD_HEADERS = ("content-encoding", "content-language", "content-length", "content-md5", "content-type", "date",
                    "if-modified-since", "if-match", "if-none-match", "if-unmodified-since", "range")

# Sort weights of the service's header ordering (level 0: primary weight; level 4: the ignored punctuation).
_LV0 = dict(zip(range(33, 127), (
    0x71c, 0, 0x71f, 0x721, 0x723, 0x725, 0, 0, 0, 0x72d, 0x803, 0, 0, 0x733, 0, 0xd03, 0xd1a, 0xd1c, 0xd1e, 0xd20,
    0xd22, 0xd24, 0xd26, 0xd28, 0xd2a, 0, 0, 0, 0, 0, 0, 0, 0xe02, 0xe09, 0xe0a, 0xe1a, 0xe21, 0xe23, 0xe25, 0xe2c,
    0xe32, 0xe35, 0xe36, 0xe48, 0xe51, 0xe70, 0xe7c, 0xe7e, 0xe89, 0xe8a, 0xe91, 0xe99, 0xe9f, 0xea2, 0xea4, 0xea6,
    0xea7, 0xea9, 0, 0, 0, 0x743, 0x744, 0x748, 0xe02, 0xe09, 0xe0a, 0xe1a, 0xe21, 0xe23, 0xe25, 0xe2c, 0xe32, 0xe35,
    0xe36, 0xe48, 0xe51, 0xe70, 0xe7c, 0xe7e, 0xe89, 0xe8a, 0xe91, 0xe99, 0xe9f, 0xea2, 0xea4, 0xea6, 0xea7, 0xea9, 0,
    0x74c, 0, 0x750)))
_LV4 = {39: 0x8012, 45: 0x8212}


def _compare(lhs: str, rhs: str) -> int:
    tables = (_LV0, _LV4)
    level, i, j = 0, 0, 0
    while level < len(tables):
        if level == len(tables) - 1 and i != j:
            return -1 if i > j else 1
        w1 = tables[level].get(ord(lhs[i]), 0) if i < len(lhs) else 0x1
        w2 = tables[level].get(ord(rhs[j]), 0) if j < len(rhs) else 0x1
        if w1 == 0x1 and w2 == 0x1:
            i = j = 0
            level += 1
        elif w1 == w2:
            i, j = i + 1, j + 1
        elif w1 == 0:
            i += 1
        elif w2 == 0:
            j += 1
        else:
            return -1 if w1 < w2 else 1
    return 0


def string_to_sign(method: str, headers: Mapping[str, str], resource_path: str, account: str,
                   query: Sequence[tuple[str, str]]) -> str:
    """`headers` lower-cased; `resource_path` as sent on the wire (percent-encoded); `query` raw pairs."""
    std = dict(headers)
    if std.get("content-length") == "0":
        std["content-length"] = ""
    lines = [method.upper()] + [std.get(h, "") for h in STANDARD_HEADERS]
    ms = sorted(((k, v) for k, v in headers.items() if k.startswith("x-ms-")), key=cmp_to_key(
        lambda a, b: _compare(a[0], b[0])))
    canonical_headers = "".join(f"{k}:{v}\n" for k, v in ms)
    grouped: dict[str, list[str]] = {}
    for k, v in query:
        grouped.setdefault(k.lower(), []).append(unquote(v))
    canonical_query = "".join(f"\n{k}:{','.join(sorted(vs))}" for k, vs in sorted(grouped.items()))
    return "\n".join(lines) + "\n" + canonical_headers + f"/{account}{resource_path}" + canonical_query


def sign(key_b64: str, text: str) -> str:
    return base64.b64encode(hmac.new(base64.b64decode(key_b64), text.encode(), hashlib.sha256).digest()).decode()


def matches(signature: str, keys: Iterable[str], texts: Iterable[str]) -> bool:
    """True when the signature equals the HMAC of any candidate string under any account key (constant time)."""
    found = False
    for text in texts:
        for key in keys:
            found |= hmac.compare_digest(sign(key, text), signature)
    return found


def candidates(method: str, headers: Mapping[str, str], raw_path: str, account: str,
               query: Sequence[tuple[str, str]]) -> list[str]:
    """The strings a client may have signed: the path as sent, and the path-style form without the account."""
    out = [string_to_sign(method, headers, raw_path, account, query)]
    prefix = f"/{account}"
    if raw_path == prefix or raw_path.startswith(prefix + "/"):
        out.append(string_to_sign(method, headers, raw_path[len(prefix):] or "/", account, query))
    return out
