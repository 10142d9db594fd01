"""Rewrite az's space-separated multi-value options into repeated Click options.

az (argparse, nargs='*') accepts `--tags a=b c=d`, `--identities X Y`, `--secret-permissions get list` and a bare
`--assign-identity`; Click options take one value each. `expand_multi_values` turns
`--tags a=b c=d` into `--tags a=b --tags c=d`, and an option given with no value into its
az meaning (`--assign-identity` alone = `[system]`, `--tags` alone = clear tags). Nothing
after `--` is touched (the command line of `azmi run`).
"""

from __future__ import annotations

import re

SYSTEM = "[system]"

# option -> value to use when the option is given without values (None: drop the option)
MULTI_VALUE: dict[str, str | None] = {
    "--tags": "",
    "--identities": None,
    "--assign-identity": SYSTEM,
    "--ids": None,
    "--secret-permissions": None,
    "--key-permissions": None,
    "--certificate-permissions": None,
    "--storage-permissions": None,
    "--set": None,
}

_NUMBER = re.compile(r"^-\d")


def _is_option(token: str) -> bool:
    return token.startswith("-") and len(token) > 1 and not _NUMBER.match(token)


def expand_multi_values(argv: list[str]) -> list[str]:
    out: list[str] = []
    i = 0
    while i < len(argv):
        token = argv[i]
        if token == "--":
            out.extend(argv[i:])
            break
        name, eq, inline = token.partition("=")
        if name not in MULTI_VALUE:
            out.append(token)
            i += 1
            continue
        i += 1
        values = [inline] if eq else []
        if not eq:
            while i < len(argv) and argv[i] != "--" and not _is_option(argv[i]):
                values.append(argv[i])
                i += 1
        if not values:
            empty = MULTI_VALUE[name]
            if empty is not None:
                out.append(f"{name}={empty}")
            continue
        for value in values:
            out.append(f"{name}={value}")
    return out
