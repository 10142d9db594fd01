"""`azmi storage container` and `azmi storage blob`: the Blob service data plane, as `az storage`.

Plain HTTP (no azure-storage-blob): credentials and signing in `storage_data.py`, XML and output
shapes in `storage_ops.py`. As az: `container create` prints `{"created": bool}` (false when it
exists), `container delete` `{"deleted": bool}`, `blob upload` refuses to replace a blob unless
`--overwrite` (`If-None-Match: *`), and files over 4 MiB go up as blocks plus a block list.
"""

from __future__ import annotations

import mimetypes
import os
from typing import Any

import click

from azmi.cli.common import az_command
from azmi.cli.context import Session
from azmi.cli.errors import CliError
from azmi.cli.storage_data import auth_options, service_of
from azmi.cli.storage_ops import (MAX_SINGLE_PUT, OVERWRITE_HINT, block_id, block_list_xml, block_ranges, blob_view,
                                  container_view, parse_blob_list, parse_container_list, upload_view)

CONTAINER_SPACE = [("restype", "container")]


def _meta(headers: Any) -> dict[str, str]:
    return {k[len("x-ms-meta-"):]: v for k, v in headers.items() if k.lower().startswith("x-ms-meta-")}


def _bool(value: str | None, default: bool = False) -> bool:
    if value is None:
        return default
    if value.lower() in ("true", "yes", "1", "on"):
        return True
    if value.lower() in ("false", "no", "0", "off"):
        return False
    raise CliError(f"invalid boolean value: '{value}'", exit_code=2)


def three_state(name: str, help: str) -> Any:
    """az's three-state flag: `--flag` alone means true, `--flag true|false` as given."""
    return click.option(name, is_flag=False, flag_value="true", default=None, metavar="[true|false]", help=help)


@click.group("container", help="Manage blob storage containers.")
def container() -> None:
    pass


@click.group("blob", help="Manage object storage for unstructured data (blobs).")
def blob() -> None:
    pass


def container_name_option(help: str = "The container name.") -> Any:
    return click.option("-n", "--name", "name", required=True, help=help)


@az_command(container, "create", help="Create a container in a storage account.")
@container_name_option()
@auth_options
@three_state("--fail-on-exist", "Throw an exception if the container already exists.")
@click.option("--public-access", type=click.Choice(("off", "blob", "container")), hidden=True)
def container_create(sess: Session, name: str, fail_on_exist: str | None, public_access: str | None,
                     **creds: Any) -> Any:
    svc = service_of(sess, creds)
    ok = () if _bool(fail_on_exist) else ("ContainerAlreadyExists",)
    resp = svc.send("PUT", name, query=CONTAINER_SPACE, ok_codes=ok)
    return {"created": resp.status_code < 400}


@az_command(container, "delete", help="Mark the specified container for deletion.")
@container_name_option()
@auth_options
@three_state("--fail-not-exist", "Throw an exception if the container does not exist.")
def container_delete(sess: Session, name: str, fail_not_exist: str | None, **creds: Any) -> Any:
    svc = service_of(sess, creds)
    ok = () if _bool(fail_not_exist) else ("ContainerNotFound",)
    resp = svc.send("DELETE", name, query=CONTAINER_SPACE, ok_codes=ok)
    return {"deleted": resp.status_code < 400}


@az_command(container, "show", help="Return all user-defined metadata and system properties for the container.")
@container_name_option()
@auth_options
def container_show(sess: Session, name: str, **creds: Any) -> Any:
    resp = service_of(sess, creds).send("GET", name, query=CONTAINER_SPACE)
    return container_view(name, {k.lower(): v for k, v in resp.headers.items()}, _meta(resp.headers))


@az_command(container, "exists", help="Check for the existence of a storage container.")
@container_name_option()
@auth_options
def container_exists(sess: Session, name: str, **creds: Any) -> Any:
    resp = service_of(sess, creds).send("GET", name, query=CONTAINER_SPACE, ok_codes=("ContainerNotFound",))
    return {"exists": resp.status_code < 400}


@az_command(container, "list", help="List containers in a storage account.")
@auth_options
@click.option("--prefix", help="Filter the results to return only containers whose names begin with the prefix.")
@click.option("--num-results", default="5000", show_default=True,
              help="The maximum number of containers to return; '*' for all.")
@click.option("--marker", help="A continuation token from a previous listing.")
@click.option("--include-metadata", is_flag=True, help="Include the containers' metadata.")
def container_list(sess: Session, prefix: str | None, num_results: str, marker: str | None, include_metadata: bool,
                   **creds: Any) -> Any:
    svc = service_of(sess, creds)
    extra = [("prefix", prefix)] if prefix else []
    if include_metadata:
        extra.append(("include", "metadata"))

    def page(token: str | None) -> tuple[list[Any], str | None]:
        query = [("comp", "list"), *extra, *([("marker", token)] if token else [])]
        return parse_container_list(svc.send("GET", query=query).content)

    return paged(page, marker, num_results)


def paged(page: Any, marker: str | None, num_results: str) -> list[Any]:
    """Follow NextMarker until `num_results` items ('*': all), as az's list commands do."""
    if num_results != "*" and not num_results.isdigit():
        raise CliError(f"usage error: --num-results must be a number or '*' (got '{num_results}')", exit_code=2)
    limit = None if num_results == "*" else int(num_results)
    items: list[Any] = []
    while True:
        got, marker = page(marker)
        items.extend(got)
        if not marker or (limit is not None and len(items) >= limit):
            return items if limit is None else items[:limit]


def blob_options(fn: Any) -> Any:
    fn = click.option("-n", "--name", "name", required=True, help="The blob name.")(fn)
    return click.option("-c", "--container-name", "container_name", required=True, help="The container name.")(fn)


@az_command(blob, "upload", help="Upload a file to a storage blob.")
@click.option("-f", "--file", "file_path", required=True, type=click.Path(dir_okay=False),
              help="Path of the file to upload as the blob content.")
@blob_options
@auth_options
@three_state("--overwrite", "Whether the blob to be uploaded should overwrite the current data.")
@click.option("--content-type", help="The content MIME type. Default: guessed from the file name.")
@click.option("-t", "--type", "blob_type", type=click.Choice(("block",)), default="block", hidden=True)
@click.option("--no-progress", is_flag=True, hidden=True)
@click.option("--max-connections", type=int, hidden=True)
def blob_upload(sess: Session, file_path: str, container_name: str, name: str, overwrite: str | None,
                content_type: str | None, blob_type: str, no_progress: bool, max_connections: int | None,
                **creds: Any) -> Any:
    try:
        size = os.path.getsize(file_path)
        handle = open(file_path, "rb")
    except OSError as exc:
        raise CliError(f"[Errno {exc.errno}] {exc.strerror}: '{file_path}'") from None
    svc = service_of(sess, creds)
    headers = {"x-ms-blob-content-type": content_type or mimetypes.guess_type(file_path)[0]
               or "application/octet-stream"}
    if not _bool(overwrite):
        headers["If-None-Match"] = "*"
    try:
        with handle:
            if size <= MAX_SINGLE_PUT:
                resp = svc.send("PUT", container_name, name, headers={**headers, "x-ms-blob-type": "BlockBlob"},
                                content=handle.read())
            else:
                ids = []
                for index, (_, length) in enumerate(block_ranges(size)):
                    ids.append(block_id(index))
                    svc.send("PUT", container_name, name, query=[("comp", "block"), ("blockid", ids[-1])],
                             content=handle.read(length))
                resp = svc.send("PUT", container_name, name, query=[("comp", "blocklist")], headers=headers,
                                content=block_list_xml(ids))
    except CliError as exc:
        if exc.code == "BlobAlreadyExists":
            raise CliError(exc.message + OVERWRITE_HINT, code=exc.code) from None
        raise
    return upload_view(resp.headers)


@az_command(blob, "download", help="Download a blob to a file path.")
@click.option("-f", "--file", "file_path", required=True, type=click.Path(dir_okay=False),
              help="Path of file to write out to.")
@blob_options
@auth_options
@click.option("--no-progress", is_flag=True, hidden=True)
@click.option("--max-connections", type=int, hidden=True)
def blob_download(sess: Session, file_path: str, container_name: str, name: str, no_progress: bool,
                  max_connections: int | None, **creds: Any) -> Any:
    resp = service_of(sess, creds).send("GET", container_name, name)
    try:
        with open(file_path, "wb") as out:
            out.write(resp.content)
    except OSError as exc:
        raise CliError(f"[Errno {exc.errno}] {exc.strerror}: '{file_path}'") from None
    return blob_view(container_name, name, {k.lower(): v for k, v in resp.headers.items()}, _meta(resp.headers))


@az_command(blob, "show", help="Get the details of a blob.")
@blob_options
@auth_options
def blob_show(sess: Session, container_name: str, name: str, **creds: Any) -> Any:
    resp = service_of(sess, creds).send("HEAD", container_name, name)
    return blob_view(container_name, name, {k.lower(): v for k, v in resp.headers.items()}, _meta(resp.headers))


@az_command(blob, "exists", help="Check for the existence of a blob in a container.")
@blob_options
@auth_options
def blob_exists(sess: Session, container_name: str, name: str, **creds: Any) -> Any:
    resp = service_of(sess, creds).send("HEAD", container_name, name, ok_codes=("BlobNotFound", "ContainerNotFound"))
    return {"exists": resp.status_code < 400}


@az_command(blob, "delete", help="Mark a blob for deletion.")
@blob_options
@auth_options
@click.option("--delete-snapshots", type=click.Choice(("include", "only")), hidden=True)
def blob_delete(sess: Session, container_name: str, name: str, delete_snapshots: str | None, **creds: Any) -> None:
    service_of(sess, creds).send("DELETE", container_name, name)


@az_command(blob, "list", help="List blobs in a given container.")
@click.option("-c", "--container-name", "container_name", required=True, help="The container name.")
@auth_options
@click.option("--prefix", help="Filter the results to return only blobs whose names begin with the prefix.")
@click.option("--delimiter", help="Return BlobPrefix elements for names up to the delimiter (virtual directories).")
@click.option("--num-results", default="5000", show_default=True,
              help="The maximum number of blobs to return; '*' for all.")
@click.option("--marker", help="A continuation token from a previous listing.")
@click.option("--include", "include", help="Additional datasets to include: (m)etadata.")
def blob_list(sess: Session, container_name: str, prefix: str | None, delimiter: str | None, num_results: str,
              marker: str | None, include: str | None, **creds: Any) -> Any:
    svc = service_of(sess, creds)
    extra = [(k, v) for k, v in (("prefix", prefix), ("delimiter", delimiter)) if v]
    if include and "m" in include:
        extra.append(("include", "metadata"))

    def page(token: str | None) -> tuple[list[Any], str | None]:
        query = [("restype", "container"), ("comp", "list"), *extra, *([("marker", token)] if token else [])]
        blobs, prefixes, nxt = parse_blob_list(svc.send("GET", container_name, query=query).content)
        return blobs + [{"name": p} for p in prefixes], nxt

    return paged(page, marker, num_results)
