"""What PostgreSQL accepts of text a sender wrote: no NUL, no lone surrogate, bounded."""

from __future__ import annotations

from typing import Any


def storable_text(value: str, limit: int | None = None) -> str:
    """Text PostgreSQL accepts: no NUL, no lone surrogate, whitespace runs folded, at most `limit` characters."""
    text = " ".join(value.replace("\x00", " ").split())
    text = text.encode("utf-8", "replace").decode("utf-8")
    return text[:limit] if limit is not None else text


def storable_json(value: Any) -> Any:
    r"""A JSON value with every NUL removed from its strings and keys (jsonb refuses `\u0000`)."""
    if isinstance(value, str):
        return value.replace("\x00", "").encode("utf-8", "replace").decode("utf-8")
    if isinstance(value, list):
        return [storable_json(item) for item in value]
    if isinstance(value, dict):
        return {storable_json(str(key)): storable_json(item) for key, item in value.items()}
    return value
