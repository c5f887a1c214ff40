"""The synthetic-source protocol: every registered method builds a source that satisfies it, and a new
method — the README's example, written to a package of its own — trains through the CLI with one
registry line and no other change."""

import json
import re
import sys
from pathlib import Path

import pytest

from dhaug.augment import Source, SyntheticSource, build_source
from dhaug.config import load_config
from dhaug.data import load_experiment_data
from dhaug.errors import ConfigError
from dhaug.registry import AUGMENT_METHODS

from .conftest import TINY_RUN

README = Path(__file__).resolve().parents[1] / "README.md"
TINY = [
    *TINY_RUN,
    "augment.num_poses=64",
    "augment.monitor_every=0",
    "augment.gan.gen_width=16",
    "augment.gan.d3_width=16",
    "augment.gan.d2_width=16",
    "augment.poseaug.width=16",
    "augment.poseaug.d3_width=16",
    "augment.poseaug.d2_width=16",
    "augment.poseaug.pretrain_epochs=1",
    "augment.gan.warmup=1",
    "augment.poseaug.warmup=1",
]


@pytest.mark.parametrize("method", [m for m in AUGMENT_METHODS if m not in ("none", "dhaug-video")])
def test_every_registered_method_builds_a_protocol_source(method, tmp_path):
    cfg = load_config(None, TINY + [f"augment.method={method}", f"out_dir={tmp_path}"])
    source = build_source(cfg, load_experiment_data(cfg.data), "cpu")
    assert isinstance(source, SyntheticSource) and isinstance(source, Source)
    assert set(source.networks) == set(source.optimizers)
    pairs = source.epoch_pairs(source.pose_start, progress=False)  # the first epoch with the pose net
    assert pairs.pose2d.shape[1:] == (16, 2) and pairs.pose3d.shape[1:] == (16, 3)
    assert len(pairs.pose2d) == len(pairs.pose3d)
    assert source.pose_lr(0, 1e-3) == 1e-3


def test_unknown_method_is_one_error():
    with pytest.raises(ConfigError, match="augment.method must be one of none, random"):
        load_config(None, ["augment.method=rotate"])


def test_readme_example_method_trains_with_one_registry_line(tmp_path, monkeypatch, capsys):
    code = next(b for b in re.findall(r"```python\n(.*?)```", README.read_text(), re.S) if "class RotateSource" in b)
    package = tmp_path / "pkg" / "rotate_example"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text(code)
    monkeypatch.syspath_prepend(str(tmp_path / "pkg"))
    monkeypatch.setitem(AUGMENT_METHODS, "rotate", "rotate_example")  # the one registry line
    from dhaug.cli import main

    out = tmp_path / "run"
    assert main(["train", "--augment", "rotate", "--no-progress", f"out_dir={out}", *TINY]) == 0
    hist = json.loads((out / "results.json").read_text())["history"]
    assert all(h["fake_pairs"] > 100 and 0 < h["rotate/kept"] <= 1 for h in hist)
    assert "mixed into the real batches" in capsys.readouterr().out
    sys.modules.pop("rotate_example", None)
