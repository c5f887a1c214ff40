"""Shared test helpers. Real benchmark data is read from ../shared/data (beside the repository) and
tests that need it skip with a message naming the missing path."""
from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared" / "data"


def shared_file(*parts: str) -> Path:
    p = SHARED.joinpath(*parts)
    if not p.exists():
        pytest.skip(f"shared benchmark data not found: {p}")
    return p


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path_factory, monkeypatch):
    """Keep the GT-2D cache of tests out of the user's home."""
    monkeypatch.setenv("DHAUG_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "cache"))
