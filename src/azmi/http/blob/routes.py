"""Which Blob service operation a request is, and the RBAC action Azure checks for it.

Path-style addressing (sdk-compat §6): `/<account>[/<container>[/<blob name>]]`. As in Azure, a
container-level URL without `restype=container` names a blob in the `$root` container.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from azmi import errors as e
from azmi.services.blob_auth import BLOBS, CONTAINERS


@dataclass(frozen=True)
class Operation:
    name: str
    action: str
    container: str | None = None
    blob: str | None = None


def _unsupported(what: str) -> e.InvalidInput:
    return e.InvalidInput("Value for one of the query parameters specified in the request URI is invalid.",
                          code="InvalidQueryParameterValue", target=what)


def _verb(method: str) -> e.InvalidInput:
    return e.InvalidInput("The resource doesn't support specified Http Verb.", code="UnsupportedHttpVerb")


def route(method: str, path: str, query: dict[str, str]) -> tuple[str, Operation]:
    """(account name, operation) for a decoded path and its single-valued query."""
    return _route(method, path, query.get("comp"), query.get("restype"))


@lru_cache(maxsize=4096)
def _route(method: str, path: str, comp: str | None, restype: str | None) -> tuple[str, Operation]:
    """A workload reads the same blobs again and again: route each (method, path, comp, restype) once."""
    account, _, rest = path.lstrip("/").partition("/")
    container, _, blob = rest.partition("/")
    if not container:
        if method == "GET" and comp == "list" and restype is None:
            return account, Operation("list_containers", f"{CONTAINERS}/read")
        raise _unsupported("comp") if method in ("GET", "HEAD", "PUT") else _verb(method)
    if not blob and restype == "container":
        table = {("PUT", None): ("create_container", "write"), ("GET", None): ("container_properties", "read"),
                 ("HEAD", None): ("container_properties", "read"), ("DELETE", None): ("delete_container", "delete"),
                 ("GET", "list"): ("list_blobs", "blobs/read")}
        found = table.get((method, comp))
        if found is None:
            raise _unsupported("comp") if (method, None) in table or method == "GET" else _verb(method)
        name, verb = found
        action = f"{BLOBS}/read" if verb == "blobs/read" else f"{CONTAINERS}/{verb}"
        return account, Operation(name, action, container)
    if restype is not None:
        raise _unsupported("restype")
    if not blob:  # /<account>/<name>: a blob in the root container
        container, blob = "$root", container
    table = {("PUT", None): ("put_blob", "write"), ("PUT", "block"): ("put_block", "write"),
             ("PUT", "blocklist"): ("put_block_list", "write"), ("GET", "blocklist"): ("get_block_list", "read"),
             ("GET", None): ("get_blob", "read"), ("HEAD", None): ("blob_properties", "read"),
             ("DELETE", None): ("delete_blob", "delete")}
    found = table.get((method, comp))
    if found is None:
        raise _unsupported("comp") if method in ("GET", "PUT", "HEAD") else _verb(method)
    return account, Operation(found[0], f"{BLOBS}/{found[1]}", container, blob)
