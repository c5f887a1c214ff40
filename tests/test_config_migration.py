"""Configs and checkpoints written before ``augment`` was split into sections (commit d30d44d: flat keys
such as ``augment.warmup``, ``augment.gan_lr``, ``augment.poseaug_width``) load, resume and evaluate.
The fixtures are a tiny PoseAug run on the built-in synthetic data made by that commit:
``dhaug train --augment poseaug ... augment.poseaug_width=4 augment.gan_lr=2e-4 augment.poseaug_lr=follow``."""

import shutil
from pathlib import Path

import pytest

from dhaug import checkpoint
from dhaug.config import RENAMED, load_config, migrate_saved
from dhaug.errors import ConfigError

FIXTURES = Path(__file__).resolve().parent / "fixtures"
OLD_CKPT = FIXTURES / "poseaug_checkpoint_d30d44d.pt"
OLD_YAML = FIXTURES / "poseaug_config_d30d44d.yaml"


def test_old_flat_config_file_loads_into_the_sections():
    cfg = load_config(OLD_YAML)
    a = cfg.augment
    assert a.method == "poseaug" and a.poseaug.width == 4 and a.poseaug.d3_width == 4 and a.poseaug.pool_size == 8
    assert a.poseaug.lr_policy == "follow" and a.poseaug.lr == a.gan.lr == 2e-4  # shared keys go to both GANs
    assert a.poseaug.warmup == a.gan.warmup == 1 and a.poseaug.pretrain_epochs == 1
    assert a.video.temporal_basis == -1 and a.gan.precision == "fp32"


def test_old_flat_overrides_and_every_renamed_key_still_work():
    cfg = load_config(None, ["augment.gen_width=8", "augment.critic_frames=2", "augment.poseaug_feedback=paper"])
    assert (cfg.augment.gan.gen_width, cfg.augment.video.critic_frames, cfg.augment.poseaug.feedback) == (8, 2, "paper")
    fresh = load_config(None).to_dict()["augment"]
    for old, places in RENAMED.items():  # every old name points at a field that exists
        for place in places:
            section, key = place.split(".")
            assert key in fresh[section], (old, place)
    with pytest.raises(ConfigError, match="augment.poseaug.lr_policy"):
        load_config(None, ["augment.method=poseaug", "augment.poseaug_lr=cosine"])


def test_old_checkpoint_resumes_and_evaluates(tmp_path, capsys):
    from dhaug.cli import main
    from dhaug.train import train

    state = checkpoint.load(OLD_CKPT)
    assert "poseaug_width" in state["config"]["augment"]  # really the old layout
    saved = load_config(migrate_saved(state["config"]))
    run = tmp_path / "run"
    run.mkdir()
    shutil.copy(OLD_CKPT, run / "checkpoint.pt")
    cfg = load_config(OLD_YAML, [f"out_dir={run}"])  # the old file, today's loader: no config difference
    assert cfg.augment == saved.augment
    results = train(cfg, resume=True, progress=False)  # all epochs done: loads every state, then evaluates
    assert "resumed from" in capsys.readouterr().out and results
    assert main(["evaluate", "--checkpoint", str(OLD_CKPT), "--out", str(tmp_path / "eval"), "--no-progress"]) == 0
    assert (tmp_path / "eval" / "results.json").is_file()
