"""HTTP client of azmi's ARM surface, authenticated as the operator.

Token: client-credentials grant at `{login}/{tenant}/oauth2/v2.0/token`, one per scope
(`https://management.azure.com/.default` for ARM, `https://vault.azure.net/.default` for a vault's
data plane), cached in memory for the process. Every call carries `Authorization: Bearer` and
`api-version`; error envelopes `{"error": {code, message, innererror?}}` become `CliError`s worded
as az words them (404 exits 3, as az's ResourceNotFoundError).
"""

from __future__ import annotations

import re
from typing import Any

import httpx

from azmi.cli.context import Endpoints, Operator
from azmi.cli.errors import EXIT_NOT_FOUND, CliError, arm_error_message, error_code

ARM_SCOPE = "https://management.azure.com/.default"
VAULT_SCOPE = "https://vault.azure.net/.default"
RG_API = "2022-09-01"
SUBSCRIPTIONS_API = "2022-12-01"
_GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


def is_guid(value: str) -> bool:
    return bool(_GUID.match(value))


class ArmClient:
    def __init__(self, endpoints: Endpoints, operator: Operator, http: httpx.Client | None = None) -> None:
        self.endpoints = endpoints
        self.operator = operator
        verify: Any = endpoints.ca_cert if endpoints.ca_cert else True
        self._http = http or httpx.Client(verify=verify, timeout=60.0)
        self._tokens: dict[str, str] = {}

    def _send(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        try:
            return self._http.request(method, url, **kwargs)
        except httpx.HTTPError as exc:
            raise CliError(f"cannot reach azmi at {url.split('?')[0]}: {exc}. "
                           "Is it running? Start it with: azmi up") from exc

    def token(self, scope: str = ARM_SCOPE) -> str:
        if scope not in self._tokens:
            op = self.operator
            resp = self._send("POST", f"{self.endpoints.login}/{op.tenant_id}/oauth2/v2.0/token",
                              data={"client_id": op.client_id, "client_secret": op.client_secret,
                                    "grant_type": "client_credentials", "scope": scope})
            body = _json(resp)
            if resp.status_code != 200 or "access_token" not in body:
                detail = body.get("error_description") or body.get("error") or f"HTTP {resp.status_code}"
                raise CliError(f"operator sign-in failed: {detail}")
            self._tokens[scope] = str(body["access_token"])
        return self._tokens[scope]

    def call(self, method: str, url: str, *, scope: str = ARM_SCOPE, body: Any = None,
             params: dict[str, str] | None = None, allow_404: bool = False) -> tuple[int, Any]:
        """Call an absolute URL with a token for `scope`; returns (status, parsed JSON or None)."""
        kwargs: dict[str, Any] = {"headers": {"Authorization": f"Bearer {self.token(scope)}"}}
        if params:
            kwargs["params"] = params
        if body is not None:
            kwargs["json"] = body
        resp = self._send(method, url, **kwargs)
        data = _json(resp) if resp.content else None
        if resp.status_code == 404 and allow_404:
            return 404, data
        if resp.status_code >= 400:
            code = EXIT_NOT_FOUND if resp.status_code == 404 else 1
            raise CliError(arm_error_message(data, resp.status_code), exit_code=code, code=error_code(data))
        return resp.status_code, data

    def request(self, method: str, path: str, api_version: str | None = None, body: Any = None,
                params: dict[str, str] | None = None, allow_404: bool = False) -> tuple[int, Any]:
        """Call ARM; returns (status, parsed JSON or None). Raises CliError on an error status."""
        query = dict(params or {})
        if api_version:
            query["api-version"] = api_version
        return self.call(method, f"{self.endpoints.arm}{path}", body=body, params=query, allow_404=allow_404)

    def get(self, path: str, api_version: str | None, **kw: Any) -> Any:
        return self.request("GET", path, api_version, **kw)[1]

    def put(self, path: str, api_version: str, body: Any) -> Any:
        status, data = self.request("PUT", path, api_version, body=body)
        if status == 202 or data is None:
            data = self.get(path, api_version)
        return data

    def patch(self, path: str, api_version: str, body: Any) -> Any:
        status, data = self.request("PATCH", path, api_version, body=body)
        if status == 202 or data is None:
            data = self.get(path, api_version)
        return data

    def delete(self, path: str, api_version: str) -> None:
        self.request("DELETE", path, api_version)

    def list(self, path: str, api_version: str, params: dict[str, str] | None = None) -> list[Any]:
        """GET an ARM collection, following nextLink."""
        return self.collect(self.get(path, api_version, params=params))

    def collect(self, data: Any, scope: str = ARM_SCOPE) -> list[Any]:
        """The items of a collection page and of every page its nextLink leads to."""
        items: list[Any] = []
        while True:
            items.extend((data or {}).get("value", []))
            link = (data or {}).get("nextLink")
            if not link:
                return items
            data = self.call("GET", link, scope=scope)[1]

    def subscriptions(self) -> list[dict[str, Any]]:
        return self.list("/subscriptions", SUBSCRIPTIONS_API)

    def resolve_subscription(self, value: str | None) -> str:
        """--subscription takes a name or an id, as in az; default: the server's subscription."""
        if not value:
            return self.endpoints.subscription_id
        if is_guid(value):
            return value.lower()
        for sub in self.subscriptions():
            if str(sub.get("displayName", "")).lower() == value.lower():
                return str(sub["subscriptionId"])
        raise CliError(f"Subscription '{value}' not found. Check the spelling and casing and try again.")


def _json(resp: httpx.Response) -> Any:
    try:
        return resp.json()
    except ValueError:
        return {}
