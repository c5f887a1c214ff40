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


#: A 2-epoch run of a tiny MLP on a sliver of the synthetic data (seconds); tests add their method's settings.
TINY_RUN = [
    "data.dataset=synthetic",
    "data.train_subjects=[S1]",
    "data.downsample=20",
    "data.test_downsample=20",
    "model.name=mlp",
    "model.channels=16",
    "model.stages=1",
    "train.epochs=2",
    "train.tail_epochs=0",
    "train.batch_size=128",
]


def tiny_dhaug_config(out):
    """A 2-epoch DH-AUG run on a sliver of the synthetic data with tiny networks (seconds): for resume tests."""
    from dhaug.config import load_config

    return load_config(
        None,
        [
            f"out_dir={out}",
            *TINY_RUN,
            "augment.method=dhaug",
            "augment.gan.warmup=0",
            "augment.gan.gen_width=16",
            "augment.gan.d3_width=16",
            "augment.gan.d2_width=16",
            "augment.gan.n_critic=2",
            "augment.monitor_every=0",
        ],
    )
