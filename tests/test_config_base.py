"""YAML configs inherit from ``_base_`` files: the shipped protocol files resolve through them, a file's own
keys win over its bases', and a missing or circular base is one clear error."""

from pathlib import Path

import pytest

from dhaug.config import load_config
from dhaug.errors import ConfigError

CONFIGS = Path(__file__).resolve().parents[1] / "configs"


def test_shipped_configs_resolve_through_their_bases():
    medium = load_config(CONFIGS / "medium_mlp.yaml")
    assert medium.model.name == "mlp" and medium.data.train_subjects == ["S1", "S5", "S6", "S7", "S8"]
    assert (medium.data.downsample, medium.train.epochs, medium.train.tail_epochs, medium.train.curve_every) == (
        10,
        11,
        5,
        20,
    )
    quick = load_config(CONFIGS / "quick_videopose9.yaml")  # quick.yaml over h36m.yaml, then its own keys
    assert quick.data.train_subjects == ["S1"] and quick.data.downsample == 10 and quick.data.test_downsample == 8
    assert quick.model.frames == 9 and quick.augment.gan.warmup == 3 and quick.augment.video.critic_frames == 3
    assert all(load_config(p).name == p.stem for p in CONFIGS.glob("*.yaml"))


def test_own_keys_win_and_bad_bases_are_one_error(tmp_path):
    (tmp_path / "base.yaml").write_text("train:\n  epochs: 3\n  lr: 0.5\n")
    (tmp_path / "run.yaml").write_text("_base_: base.yaml\ntrain:\n  lr: 0.25\n")
    cfg = load_config(tmp_path / "run.yaml")
    assert (cfg.train.epochs, cfg.train.lr) == (3, 0.25)
    (tmp_path / "lost.yaml").write_text("_base_: nowhere.yaml\n")
    with pytest.raises(ConfigError, match="nowhere.yaml not found .the _base_ of"):
        load_config(tmp_path / "lost.yaml")
    (tmp_path / "a.yaml").write_text("_base_: b.yaml\n")
    (tmp_path / "b.yaml").write_text("_base_: [a.yaml]\n")
    with pytest.raises(ConfigError, match="include each other"):
        load_config(tmp_path / "a.yaml")
