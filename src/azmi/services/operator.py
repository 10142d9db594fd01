"""The operator: the person at the keyboard, signed in to azmi the way `az login` signs in to Azure.

There is one operator per azmi (per store). Its secret lives in the store and in the data
directory (mode 0600) for the CLI; the login surface exchanges it for a delegated token
through the Azure CLI's public app id, so ARM sees the same kind of token az would send.
"""

from __future__ import annotations

import hmac
import uuid

from azmi.clock import Clock
from azmi.domain.models import OPERATOR, Principal
from azmi.errors import Unauthenticated
from azmi.ids import new_guid, new_secret
from azmi.services.keyring import Keyring
from azmi.services.tokens import check_audience
from azmi.settings import Settings
from azmi.store import Store
from azmi.tokens import claims as claimset
from azmi.tokens.jwt_codec import sign

UPN = "operator@azmi.local"


class Operator:
    def __init__(self, settings: Settings, store: Store, clock: Clock, keyring: Keyring) -> None:
        self._s = settings
        self._clock = clock
        self._keyring = keyring
        with store.begin() as tx:
            oid = tx.get_meta("operator_object_id")
            if oid is None:
                oid = new_guid()
                tx.insert_principal(Principal(oid, new_guid(), "azmi operator", OPERATOR, None, clock.now()))
                tx.set_meta("operator_object_id", oid)
                tx.set_meta("operator_secret", new_secret())
            principal = tx.get_principal(oid)
            secret = tx.get_meta("operator_secret")
        assert principal is not None and secret is not None
        self.principal = principal
        self.secret = secret

    def token(self, client_id: str, client_secret: str, resource: str) -> tuple[str, int]:
        """Exchange the operator's secret for a token; returns (jwt, expires_on)."""
        if client_id.lower() != claimset.AZURE_CLI_APP_ID or not hmac.compare_digest(
                client_secret.encode(), self.secret.encode()):
            raise Unauthenticated(
                f"AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in the request is "
                f"the client secret value, not the client secret ID, for a secret added to app '{client_id}'.",
                code="invalid_client")
        check_audience(resource, self._s.tenant_id)
        now = int(self._clock.now())
        body = claimset.operator_claims(tenant_id=self._s.tenant_id, principal=self.principal, audience=resource,
                                        issued_at=now, lifetime=self._s.token_lifetime,
                                        uti=uuid.uuid4().hex[:22], upn=UPN)
        return sign(body, self._keyring.active), now + self._s.token_lifetime
