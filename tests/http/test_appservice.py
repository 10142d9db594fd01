"""App Service / Functions identity endpoint, in-process (azure-wire.md §2.1-2.2, sdk-compat §2.2-2.3)."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from tests.http.helpers import MGMT, VAULT, claims, identity_header, new_group, new_uami, put, unique, with_system

PATH = "/msi/token"
GUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


@pytest.fixture
def site(wire):  # type: ignore[no-untyped-def]
    """A web app with a system-assigned identity and two user-assigned ones."""
    group = new_group(wire)
    a, b = new_uami(wire, group), new_uami(wire, group)
    body = with_system(wire, "site", group, users=[a["id"], b["id"]])
    return {"site": body, "a": a, "b": b, "secret": identity_header(wire, body["id"])}


def get(wire, secret: str | None, params, header: str = "X-IDENTITY-HEADER"):  # type: ignore[no-untyped-def]
    headers = {header: secret} if secret is not None else {}
    return wire.appservice.get(PATH, params=params, headers=headers)


def token2019(wire, site, **params):  # type: ignore[no-untyped-def]
    return get(wire, site["secret"], {"api-version": "2019-08-01", "resource": VAULT, **params})


def app_error(r, status: int) -> dict:  # type: ignore[no-untyped-def,type-arg]
    assert r.status_code == status, r.text
    body = r.json()
    assert set(body) == {"statusCode", "message", "correlationId"}, body
    assert body["statusCode"] == status
    assert GUID.match(body["correlationId"])
    return dict(body)


# -- 2019-08-01 ---------------------------------------------------------------------------------------
def test_2019_success_body_exactly(wire, site):  # type: ignore[no-untyped-def]
    r = token2019(wire, site)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/json; charset=utf-8"
    body = r.json()
    assert list(body) == ["access_token", "expires_on", "resource", "token_type", "client_id"]
    assert body["expires_on"] == str(int(wire.clock.now()) + wire.settings.token_lifetime)
    assert body["resource"] == VAULT
    assert body["token_type"] == "Bearer"
    c = claims(body["access_token"])
    assert c["oid"] == site["site"]["identity"]["principalId"]  # the system identity is the default
    assert c["appid"] == body["client_id"]
    assert c["exp"] == int(body["expires_on"])


@pytest.mark.parametrize("secret", [None, "", "wrong", "x" * 43])
def test_2019_wrong_or_missing_header_is_403(wire, site, secret):  # type: ignore[no-untyped-def]
    r = get(wire, secret, {"api-version": "2019-08-01", "resource": VAULT})
    body = app_error(r, 403)
    assert "access_token" not in r.text
    assert body["message"]


def test_2019_secret_header_does_not_authenticate(wire, site):  # type: ignore[no-untyped-def]
    r = get(wire, site["secret"], {"api-version": "2019-08-01", "resource": VAULT}, header="secret")
    app_error(r, 403)


def test_correlation_ids_differ(wire, site):  # type: ignore[no-untyped-def]
    first = get(wire, "wrong", {"api-version": "2019-08-01", "resource": VAULT}).json()
    second = get(wire, "wrong", {"api-version": "2019-08-01", "resource": VAULT}).json()
    assert first["correlationId"] != second["correlationId"]


@pytest.mark.parametrize("param, which", [("client_id", "clientId"), ("principal_id", "principalId"),
                                          ("object_id", "principalId"), ("mi_res_id", "id")])
def test_2019_selectors(wire, site, param, which):  # type: ignore[no-untyped-def]
    b = site["b"]
    value = b["id"] if which == "id" else b["properties"][which]
    r = token2019(wire, site, **{param: value})
    assert r.status_code == 200, r.text
    assert r.json()["client_id"] == b["properties"]["clientId"]
    assert claims(r.json()["access_token"])["oid"] == b["properties"]["principalId"]


def test_2019_two_selectors_are_400(wire, site):  # type: ignore[no-untyped-def]
    a = site["a"]
    r = token2019(wire, site, client_id=a["properties"]["clientId"], mi_res_id=a["id"])  # both name `a`
    assert app_error(r, 400)["message"] == "Only one of client_id, mi_res_id can be specified."


@pytest.mark.parametrize("param", ["client_id", "principal_id", "mi_res_id"])
def test_2019_unknown_uami_is_400_unable_to_load(wire, site, param):  # type: ignore[no-untyped-def]
    other = new_uami(wire, new_group(wire))
    value = other["id"] if param == "mi_res_id" else other["properties"][
        "clientId" if param == "client_id" else "principalId"]
    body = app_error(token2019(wire, site, **{param: value}), 400)
    assert body["message"] == "Unable to load the proper Managed Identity."


def test_2019_two_uamis_no_system_no_selector_is_400(wire):  # type: ignore[no-untyped-def]
    group = new_group(wire)
    a, b = new_uami(wire, group), new_uami(wire, group)
    body = put(wire, "site", group, unique("app"), {"identity": {
        "type": "UserAssigned", "userAssignedIdentities": {a["id"]: {}, b["id"]: {}}}}, expect=201).json()
    r = get(wire, identity_header(wire, body["id"]), {"api-version": "2019-08-01", "resource": VAULT})
    assert app_error(r, 400)["message"] == "Unable to load the proper Managed Identity."


def test_missing_resource_is_400(wire, site):  # type: ignore[no-untyped-def]
    r = get(wire, site["secret"], {"api-version": "2019-08-01"})
    app_error(r, 400)


def test_repeated_parameter_is_400(wire, site):  # type: ignore[no-untyped-def]
    r = get(wire, site["secret"], [("api-version", "2019-08-01"), ("resource", VAULT), ("resource", MGMT)])
    app_error(r, 400)


def test_oversize_value_is_400(wire, site):  # type: ignore[no-untyped-def]
    r = token2019(wire, site, client_id="a" * 3000)
    assert app_error(r, 400)["message"] == "A query parameter is too long."


def test_post_is_405(wire, site):  # type: ignore[no-untyped-def]
    r = wire.appservice.post(PATH, params={"api-version": "2019-08-01", "resource": VAULT},
                             headers={"X-IDENTITY-HEADER": site["secret"]})
    app_error(r, 405)


def test_tokens_are_cached(wire, site):  # type: ignore[no-untyped-def]
    first = token2019(wire, site).json()
    wire.clock.advance(30)
    assert token2019(wire, site).json()["access_token"] == first["access_token"]


# -- api-version ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("version", [None, "2018-02-01", "2020-06-01", "2019-07-01-preview"])
def test_unsupported_api_version(wire, site, version):  # type: ignore[no-untyped-def]
    params = {"resource": VAULT} if version is None else {"api-version": version, "resource": VAULT}
    r = get(wire, site["secret"], params)
    assert r.status_code == 400
    body = r.json()
    assert set(body) == {"error"}
    assert body["error"]["code"] == "UnsupportedApiVersion"
    assert body["error"]["innerError"] is None
    assert body["error"]["message"].startswith("The HTTP resource that matches the request URI '")
    assert body["error"]["message"].endswith(f"does not support the API version '{version or ''}'.")


# -- 2017-09-01 (MSI_ENDPOINT / MSI_SECRET) -------------------------------------------------------------
def test_2017_expires_on_is_a_date_string(wire, site):  # type: ignore[no-untyped-def]
    r = get(wire, site["secret"], {"api-version": "2017-09-01", "resource": VAULT}, header="secret")
    assert r.status_code == 200, r.text
    body = r.json()
    assert set(body) == {"access_token", "expires_on", "resource", "token_type"}
    assert re.match(r"^\d{2}/\d{2}/\d{4} \d{2}:\d{2}:\d{2} \+00:00$", body["expires_on"]), body["expires_on"]
    parsed = dt.datetime.strptime(body["expires_on"], "%m/%d/%Y %H:%M:%S +00:00").replace(tzinfo=dt.timezone.utc)
    assert int(parsed.timestamp()) == int(wire.clock.now()) + wire.settings.token_lifetime
    assert int(parsed.timestamp()) == claims(body["access_token"])["exp"]


def test_2017_secret_header_name_is_case_insensitive(wire, site):  # type: ignore[no-untyped-def]
    r = get(wire, site["secret"], {"api-version": "2017-09-01", "resource": VAULT}, header="Secret")
    assert r.status_code == 200, r.text


def test_2017_clientid_selects_a_uami(wire, site):  # type: ignore[no-untyped-def]
    a = site["a"]
    r = get(wire, site["secret"], {"api-version": "2017-09-01", "resource": VAULT,
                                   "clientid": a["properties"]["clientId"]}, header="secret")
    assert r.status_code == 200, r.text
    assert claims(r.json()["access_token"])["oid"] == a["properties"]["principalId"]


@pytest.mark.parametrize("secret", [None, "wrong"])
def test_2017_missing_or_wrong_secret_is_401(wire, site, secret):  # type: ignore[no-untyped-def]
    r = get(wire, secret, {"api-version": "2017-09-01", "resource": VAULT}, header="secret")
    app_error(r, 401)


def test_2017_identity_header_does_not_authenticate(wire, site):  # type: ignore[no-untyped-def]
    r = get(wire, site["secret"], {"api-version": "2017-09-01", "resource": VAULT})
    app_error(r, 401)


# -- lifecycle ------------------------------------------------------------------------------------------
def test_deleted_site_secret_stops_working(wire):  # type: ignore[no-untyped-def]
    from tests.http.helpers import delete
    group = new_group(wire)
    body = with_system(wire, "site", group, name="app1")
    secret = identity_header(wire, body["id"])
    assert get(wire, secret, {"api-version": "2019-08-01", "resource": VAULT}).status_code == 200
    assert delete(wire, "site", group, "app1").status_code == 200
    app_error(get(wire, secret, {"api-version": "2019-08-01", "resource": VAULT}), 403)
