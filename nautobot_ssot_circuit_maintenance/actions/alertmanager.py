"""A small client of Alertmanager's API v2 silences: list, read, create or update, expire.

    POST   /api/v2/silences          create; with the `id` of a silence, update it (Alertmanager replaces it with a
                                     new ID when the change cannot be made in place, expiring the old one)
    GET    /api/v2/silences          every silence Alertmanager holds (expired ones for a while too)
    GET    /api/v2/silence/{id}      one silence; 404 when unknown
    DELETE /api/v2/silence/{id}      expire it

Every request has a timeout; every failure is an `AlertmanagerError` whose message is scrubbed of the token and of
any credentials in the URL, so it can go to a job log as it is.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import requests

from nautobot_ssot_circuit_maintenance.redaction import Scrubber

# Alertmanager's silence states (`status.state`).
EXPIRED = "expired"
ACTIVE = "active"


class AlertmanagerError(Exception):
    """A request to Alertmanager failed; the message names what was asked, never a secret."""


class AlertmanagerUnreachable(AlertmanagerError):
    """Alertmanager did not answer (connection refused, timeout): nothing more will work in this run."""


@dataclass(frozen=True)
class AlertmanagerClient:
    """Alertmanager at `url`, with a bearer `token` or HTTP Basic `basic_auth` (user, password) if it needs one."""

    url: str
    token: str = field(default="", repr=False)
    basic_auth: tuple[str, str] | None = field(default=None, repr=False)
    timeout: float = 10.0
    verify: bool | str = True

    @property
    def scrub(self) -> Scrubber:
        """The scrubber of every error message: the token and the Basic password, in all their forms."""
        return Scrubber([self.token, self.basic_auth[1] if self.basic_auth else ""])

    def _request(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        headers = {"Accept": "application/json"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        what = f"{method} {path}"
        try:
            response = requests.request(
                method,
                self.url.rstrip("/") + path,
                headers=headers,
                auth=self.basic_auth,
                timeout=self.timeout,
                verify=self.verify,
                **kwargs,
            )
        except (requests.ConnectionError, requests.Timeout) as error:
            raise AlertmanagerUnreachable(self.scrub(f"Alertmanager did not answer {what}: {error}")) from None
        except requests.RequestException as error:
            raise AlertmanagerError(self.scrub(f"Alertmanager request {what} failed: {error}")) from None
        return response

    def _fail(self, what: str, response: requests.Response) -> AlertmanagerError:
        body = response.text.strip()[:300]
        return AlertmanagerError(self.scrub(f"Alertmanager answered {what} with HTTP {response.status_code}: {body}"))

    def _json(self, what: str, response: requests.Response) -> Any:
        try:
            return response.json()
        except ValueError:
            raise AlertmanagerError(f"Alertmanager answered {what} with something that is not JSON") from None

    def list_silences(self) -> list[dict[str, Any]]:
        """Every silence Alertmanager holds."""
        response = self._request("GET", "/api/v2/silences")
        if response.status_code != 200:
            raise self._fail("GET /api/v2/silences", response)
        silences = self._json("GET /api/v2/silences", response)
        if not isinstance(silences, list):
            raise AlertmanagerError("Alertmanager answered GET /api/v2/silences with something that is not a list")
        return silences

    def get_silence(self, silence_id: str) -> dict[str, Any] | None:
        """The silence with this ID, None when Alertmanager does not know it."""
        response = self._request("GET", f"/api/v2/silence/{silence_id}")
        if response.status_code == 404:
            return None
        if response.status_code != 200:
            raise self._fail(f"GET /api/v2/silence/{silence_id}", response)
        return self._json(f"GET /api/v2/silence/{silence_id}", response)

    def post_silence(self, silence: dict[str, Any]) -> str:
        """Create the silence (or update the one whose `id` it carries); return the ID it now has."""
        response = self._request("POST", "/api/v2/silences", json=silence)
        if response.status_code != 200:
            raise self._fail("POST /api/v2/silences", response)
        silence_id = (self._json("POST /api/v2/silences", response) or {}).get("silenceID")
        if not silence_id:
            raise AlertmanagerError("Alertmanager answered POST /api/v2/silences without a silenceID")
        return silence_id

    def expire_silence(self, silence_id: str) -> None:
        """Expire the silence; one that is unknown or expired already is left as it is."""
        current = self.get_silence(silence_id)
        if current is None or silence_state(current) == EXPIRED:
            return
        response = self._request("DELETE", f"/api/v2/silence/{silence_id}")
        if response.status_code != 200:
            raise self._fail(f"DELETE /api/v2/silence/{silence_id}", response)


def silence_state(silence: dict[str, Any]) -> str:
    """The silence's state as Alertmanager says it: active, pending or expired."""
    return (silence.get("status") or {}).get("state", "")
