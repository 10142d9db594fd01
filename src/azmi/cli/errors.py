"""CLI errors, printed as az prints them: `ERROR: <message>` on stderr.

az exits 1 for most failures, 2 for usage errors (argparse) and 3 when a resource is not
found (azure.cli.core.azclierror.ResourceNotFoundError).
"""

from __future__ import annotations

import json
from typing import IO, Any

import click

EXIT_ERROR = 1
EXIT_NOT_FOUND = 3


class CliError(click.ClickException):
    """A failure the user sees as `ERROR: message`, with az's exit code."""

    def __init__(self, message: str, exit_code: int = EXIT_ERROR, code: str = "") -> None:
        super().__init__(message)
        self.exit_code = exit_code
        self.code = code  # the service's error code, when the error came from one

    def show(self, file: IO[Any] | None = None) -> None:
        click.echo(f"ERROR: {self.format_message()}", err=True)


def error_code(body: Any) -> str:
    err = body.get("error") if isinstance(body, dict) else None
    return str(err.get("code") or "") if isinstance(err, dict) else ""


def arm_error_message(body: Any, status: int) -> str:
    """az's rendering of an error envelope (azure-core's ODataV4Format): `(Code) message`, then
    Code/Message lines and, when present, `Inner error:` as indented JSON (Key Vault's `innererror`)."""
    err = body.get("error") if isinstance(body, dict) else None
    if isinstance(err, dict):
        code = str(err.get("code") or "")
        message = str(err.get("message") or "")
        if code:
            text = f"({code}) {message}\nCode: {code}\nMessage: {message}"
            inner = err.get("innererror")
            if inner:
                text += f"\nInner error: {json.dumps(inner, indent=4)}"
            return text
        if message:
            return message
    return f"Operation returned an invalid status code (HTTP {status})"
