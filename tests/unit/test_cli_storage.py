"""`azmi storage`: connection strings, Blob XML listings and errors, block splitting, output views."""

from __future__ import annotations

import base64

import pytest

from azmi.cli.storage_ops import (BLOCK_SIZE, HEAD_MESSAGES, block_id, block_list_xml, block_ranges, blob_view,
                                  connection_string, error_text, iso, parse_blob_list, parse_connection_string,
                                  parse_container_list, parse_error, upload_view)

KEY = base64.b64encode(b"k" * 64).decode()


def test_connection_string_round_trips() -> None:
    text = connection_string("stacct", KEY, "https://127.0.0.1:44320/stacct/")
    assert text == (f"DefaultEndpointsProtocol=https;AccountName=stacct;AccountKey={KEY};"
                    "BlobEndpoint=https://127.0.0.1:44320/stacct;")
    parsed = parse_connection_string(text)
    assert parsed["AccountKey"] == KEY and parsed["AccountName"] == "stacct"  # '=' padding kept
    assert parsed["BlobEndpoint"] == "https://127.0.0.1:44320/stacct"


@pytest.mark.parametrize("bad", ["", ";;", "AccountName", "Foo=bar"])
def test_malformed_connection_strings(bad: str) -> None:
    with pytest.raises(ValueError):
        parse_connection_string(bad)


BLOBS = b"""<?xml version="1.0" encoding="utf-8"?>
<EnumerationResults ServiceEndpoint="https://127.0.0.1:1/st/" ContainerName="data"><Delimiter>/</Delimiter>
<Blobs><Blob><Name>a.txt</Name><Properties><Creation-Time>Mon, 01 Jan 2024 00:00:00 GMT</Creation-Time>
<Last-Modified>Tue, 02 Jan 2024 03:04:05 GMT</Last-Modified><Etag>"0x1"</Etag><Content-Length>11</Content-Length>
<Content-Type>text/plain</Content-Type><Content-MD5 /><BlobType>BlockBlob</BlobType><AccessTier>Hot</AccessTier>
<LeaseStatus>unlocked</LeaseStatus><LeaseState>available</LeaseState><ServerEncrypted>true</ServerEncrypted>
</Properties><Metadata><k>v</k></Metadata></Blob><BlobPrefix><Name>dir/</Name></BlobPrefix></Blobs>
<NextMarker>m2</NextMarker></EnumerationResults>"""


def test_blob_list_parses_into_az_views() -> None:
    blobs, prefixes, marker = parse_blob_list(BLOBS)
    assert prefixes == ["dir/"] and marker == "m2"
    (b,) = blobs
    assert b["name"] == "a.txt" and b["container"] == "data" and b["metadata"] == {"k": "v"}
    p = b["properties"]
    assert p["contentLength"] == 11 and p["contentSettings"]["contentType"] == "text/plain"
    assert p["etag"] == '"0x1"' and p["blobType"] == "BlockBlob" and p["serverEncrypted"] is True
    assert p["lastModified"] == "2024-01-02T03:04:05+00:00" and p["creationTime"] == "2024-01-01T00:00:00+00:00"
    assert p["lease"] == {"duration": None, "state": "available", "status": "unlocked"}


def test_empty_listing_has_no_marker() -> None:
    body = b'<EnumerationResults ContainerName="c"><Blobs /><NextMarker /></EnumerationResults>'
    assert parse_blob_list(body) == ([], [], None)


def test_container_list() -> None:
    body = (b'<EnumerationResults><Containers><Container><Name>c1</Name><Properties><Last-Modified>Mon, 01 Jan 2024 '
            b'00:00:00 GMT</Last-Modified><Etag>"0x2"</Etag><LeaseStatus>unlocked</LeaseStatus><HasLegalHold>false'
            b'</HasLegalHold></Properties></Container></Containers><NextMarker/></EnumerationResults>')
    (c,), marker = parse_container_list(body)
    assert marker is None and c["name"] == "c1" and c["properties"]["etag"] == '"0x2"'
    assert c["properties"]["lastModified"] == "2024-01-01T00:00:00+00:00" and c["properties"]["hasLegalHold"] is False


def test_error_parsing_and_wording() -> None:
    body = (b'<?xml version="1.0" encoding="utf-8"?><Error><Code>AuthenticationFailed</Code><Message>Server failed.\n'
            b'RequestId:r</Message><AuthenticationErrorDetail>MAC mismatch</AuthenticationErrorDetail></Error>')
    code, message, extra = parse_error(body, 403, "Forbidden")
    assert (code, message, extra) == ("AuthenticationFailed", "Server failed.\nRequestId:r",
                                      {"authenticationerrordetail": "MAC mismatch"})
    assert error_text(code, message, extra) == ("Server failed.\nRequestId:r\nErrorCode:AuthenticationFailed\n"
                                                "authenticationerrordetail:MAC mismatch")


def test_head_errors_take_the_code_from_the_header() -> None:
    assert parse_error(b"", 404, "Not Found", "BlobNotFound") == ("BlobNotFound", HEAD_MESSAGES["BlobNotFound"], {})
    assert parse_error(b"not xml", 500, "Boom") == ("", "Operation returned an invalid status 'Boom'", {})


def test_blocks_cover_the_file_with_fixed_width_ids() -> None:
    size = 2 * BLOCK_SIZE + 5
    assert block_ranges(size) == [(0, BLOCK_SIZE), (BLOCK_SIZE, BLOCK_SIZE), (2 * BLOCK_SIZE, 5)]
    assert block_ranges(BLOCK_SIZE) == [(0, BLOCK_SIZE)]
    assert block_ranges(0) == [(0, 0)]
    ids = [block_id(i) for i in (0, 9, 10, 12345)]
    assert len({len(i) for i in ids}) == 1 and len(set(ids)) == 4
    assert base64.b64decode(ids[3]).decode() == f"{12345:032d}"
    with pytest.raises(ValueError):
        block_ranges(10, 0)


def test_block_list_xml() -> None:
    xml = block_list_xml([block_id(0), block_id(1)])
    assert xml.startswith(b'<?xml version="1.0" encoding="utf-8"?><BlockList><Latest>')
    assert xml.count(b"<Latest>") == 2


def test_views_from_headers() -> None:
    headers = {"etag": '"0x3"', "last-modified": "Tue, 02 Jan 2024 03:04:05 GMT", "x-ms-request-id": "r",
               "x-ms-request-server-encrypted": "true", "x-ms-version": "2025-01-05", "date": "Tue, 02 Jan 2024 "
               "03:04:05 GMT", "content-md5": "md5"}
    up = upload_view(headers)
    assert up["etag"] == '"0x3"' and up["lastModified"] == "2024-01-02T03:04:05+00:00"
    assert up["request_server_encrypted"] is True and up["date"] == "2024-01-02T03:04:05+00:00"
    view = blob_view("c", "b", {**headers, "content-length": "7", "x-ms-blob-type": "BlockBlob",
                                "content-type": "application/json"})
    assert view["properties"]["contentLength"] == 7 and view["properties"]["blobType"] == "BlockBlob"
    assert iso(None) is None and iso("garbage") == "garbage"
