"""A user's key to the subscribable calendar feed."""

from __future__ import annotations

import hashlib
import secrets
from typing import Any

from django.db import models
from nautobot.apps.models import BaseModel


class CalendarFeedToken(BaseModel):
    """A user's secret for the subscribable calendar feed: good for that feed only, stored as its SHA-256 digest.

    Calendar applications cannot send an Authorization header, so the key may stand in the feed's URL
    path; clients that can send a header (or a query parameter) use those instead. The feed it opens is
    what its user may view (object permissions apply). The key itself is never stored: `issue` returns
    it once, to be shown once, and `lookup` finds a token by the digest of what a client presents.
    Issuing again replaces it (the old address stops working).
    """

    user = models.OneToOneField("users.User", on_delete=models.CASCADE, related_name="circuit_maintenance_feed_token")
    digest = models.CharField(max_length=64, unique=True, editable=False)
    # The key's last characters, so a person can tell which address a calendar holds; too few to guess from.
    hint = models.CharField(max_length=8, blank=True, default="", editable=False)
    created = models.DateTimeField(auto_now=True)

    is_metadata_associable_model = False
    is_contact_associable_model = False
    is_dynamic_group_associable_model = False
    is_saved_view_model = False

    HINT_LENGTH = 4

    def __str__(self):
        """Whose feed token this is."""
        return f"Calendar feed token of {self.user}"

    @staticmethod
    def new_key() -> str:
        """43 URL-safe characters (256 random bits): fits the feed URL's path pattern."""
        return secrets.token_urlsafe(32)

    @staticmethod
    def digest_of(key: str) -> str:
        """The stored form of a key: SHA-256, hex (a random 256-bit key needs no salt or slow hash)."""
        return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()

    @classmethod
    def issue(cls, user: Any) -> str:
        """Make the user's token, or replace it; the clear key is returned here and nowhere else."""
        key = cls.new_key()
        cls.objects.update_or_create(
            user=user, defaults={"digest": cls.digest_of(key), "hint": key[-cls.HINT_LENGTH :]}
        )
        return key

    @classmethod
    def lookup(cls, key: str) -> CalendarFeedToken | None:
        """The token whose key this is, with its user; None for an unknown or rotated key."""
        if not key:
            return None
        return cls.objects.select_related("user").filter(digest=cls.digest_of(key)).first()
