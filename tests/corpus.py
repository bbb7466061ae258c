"""Access to the corpus of real provider notification e-mails used by the tests."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

_PROJECT_CORPUS = Path(__file__).resolve().parent / "corpus"
_SHARED_CORPUS = Path("/work/shared/corpus")


def corpus_dir() -> Path:
    """`tests/corpus` when the project carries it, else the shared copy."""
    return _PROJECT_CORPUS if _PROJECT_CORPUS.is_dir() else _SHARED_CORPUS


def load_corpus() -> list[tuple[str, bytes, dict[str, Any]]]:
    """(name, raw e-mail bytes, manifest entry) for every e-mail listed in manifest.json, by name."""
    directory = corpus_dir()
    manifest = json.loads((directory / "manifest.json").read_text(encoding="utf-8"))
    return [(name, (directory / f"{name}.eml").read_bytes(), manifest[name]) for name in sorted(manifest)]
