"""A Microsoft 365 source's access token: msal's client-credentials flow, with a client secret or a certificate."""

from __future__ import annotations

import hashlib
from pathlib import Path
from urllib.parse import urlsplit

import msal
import requests
from cryptography import x509
from cryptography.hazmat.primitives import serialization

DEFAULT_AUTHORITY = "https://login.microsoftonline.com"
# The application permissions granted to the app (Mail.Read): Graph's `.default` scope.
GRAPH_SCOPE = "https://graph.microsoft.com/.default"


def certificate_credential(pem: str) -> dict[str, str]:
    """The MSAL certificate credential built from one PEM holding the private key and its certificate."""
    data = pem.encode()
    try:
        serialization.load_pem_private_key(data, password=None)
        certificate = x509.load_pem_x509_certificate(data)
    except (ValueError, TypeError):
        raise ValueError(
            "the certificate must be one PEM holding an unencrypted private key and its certificate"
        ) from None
    der = certificate.public_bytes(serialization.Encoding.DER)
    return {
        "private_key": pem,
        "thumbprint": hashlib.sha1(der, usedforsecurity=False).hexdigest(),  # noqa: S324 - x5t is SHA-1 by spec
        "public_certificate": certificate.public_bytes(serialization.Encoding.PEM).decode(),
    }


class GraphCredentials:
    """The token half of GraphSource: its credential, msal's client application, the access token.

    Uses the source's `extra`, `authority`, `_http()`, `_fail()` and `scrub()`; every token issued is kept
    in `_issued` for the scrubber.
    """

    def _credential(self) -> str | dict[str, str]:
        if self.extra.get("client_secret"):
            return self.extra["client_secret"]
        pem = self.extra.get("certificate_pem")
        if not pem and self.extra.get("certificate_file"):
            try:
                pem = Path(self.extra["certificate_file"]).read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as error:
                raise self._fail(
                    f"cannot read the certificate file ({getattr(error, 'strerror', None) or type(error).__name__})"
                ) from None
        if not pem:
            raise self._fail("no client credential: set 'client_secret', 'certificate_file' or 'secrets_group'")
        try:
            return certificate_credential(pem)
        except ValueError as error:
            raise self._fail(str(error)) from None

    def _msal(self) -> msal.ConfidentialClientApplication:
        if self._app is None:
            try:
                self._app = msal.ConfidentialClientApplication(
                    self.extra["client_id"],
                    client_credential=self._credential(),
                    authority=self.authority,
                    http_client=self._http(),
                    # Only the configured authority is asked (no instance discovery at Microsoft's public cloud).
                    instance_discovery=False,
                )
            except (requests.RequestException, OSError) as error:
                raise self._fail(
                    f"cannot reach the Microsoft identity platform at {urlsplit(self.authority).netloc} "
                    f"({type(error).__name__})"
                ) from None
            except ValueError as error:
                # msal's own message: the authority's discovery document was refused or unusable.
                raise self._fail(f"the authority {self.authority} is unusable: {self.scrub(error)[:200]}") from None
        return self._app

    def _access_token(self) -> str:
        if self._token is None:
            try:
                result = self._msal().acquire_token_for_client(scopes=[GRAPH_SCOPE])
            except (requests.RequestException, OSError) as error:
                raise self._fail(
                    f"cannot reach the Microsoft identity platform at {urlsplit(self.authority).netloc} "
                    f"({type(error).__name__})"
                ) from None
            if not isinstance(result, dict) or "access_token" not in result:
                result = result if isinstance(result, dict) else {}
                reason = result.get("error_description") or result.get("error") or "no token in the answer"
                raise self._fail(
                    f"Microsoft Entra ID refused the credentials of application {self.extra['client_id']} "
                    f"in tenant {self.extra['tenant_id']}: {self.scrub(reason)[:300]}"
                )
            self._token = result["access_token"]
            self._issued.append(self._token)
        return self._token

    def runtime_secrets(self) -> list[str]:
        """The access tokens issued to this run, should a server echo one."""
        return list(self._issued)
