"""The Blob Storage data plane (path-style, one listener for all accounts)."""

from azmi.http.blob.app import create_blob_handler

__all__ = ["create_blob_handler"]
