"""Configs and checkpoints written before ``augment`` was split into sections (commit d30d44d: flat keys
such as ``augment.warmup``, ``augment.gan_lr``, ``augment.poseaug_width``) load, resume and evaluate.
The fixture is the config.yaml that commit saved for a tiny PoseAug run on the built-in synthetic data
(``dhaug train --augment poseaug ... augment.poseaug_width=4 augment.gan_lr=2e-4 augment.poseaug_lr=follow``);
the old checkpoint is rebuilt here: a run of today's code with that saved config put back in (the networks',
optimisers' and pools' state keys did not change, benchmarks/results/bitcheck_renovation.md)."""

from pathlib import Path

import pytest
import yaml

from dhaug import checkpoint
from dhaug.config import RENAMED, load_config, migrate_saved
from dhaug.errors import ConfigError

FIXTURES = Path(__file__).resolve().parent / "fixtures"
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


def flat_layout(cfg: dict) -> dict:
    """Today's saved config -> the flat ``augment`` layout of d30d44d (each old key from its first place)."""
    aug = {k: v for k, v in cfg["augment"].items() if k not in ("gan", "video", "poseaug")}
    for old, places in RENAMED.items():
        section, key = places[0].split(".")
        aug[old] = cfg["augment"][section][key]
    return {**cfg, "augment": aug}


#: Keys added since d30d44d, at the defaults an old config means.
ADDED_SINCE = {"train": {"lr_decay": "linear"}}


def test_old_checkpoint_resumes_and_evaluates(tmp_path, capsys):
    from dhaug.cli import main
    from dhaug.train import train

    old = yaml.safe_load(OLD_YAML.read_text())
    run = tmp_path / "run"
    cfg = load_config(OLD_YAML, [f"out_dir={run}"])  # the old file, today's loader
    train(cfg, progress=False)
    saved = {**old, "out_dir": str(run)}
    now = {**saved, **{k: {**saved[k], **v} for k, v in ADDED_SINCE.items()}}
    assert flat_layout(cfg.to_dict()) == now  # the fixture is the whole flat config of that commit
    state = checkpoint.load(run / "checkpoint.pt")
    checkpoint.save_atomic({**state, "config": saved}, run / "checkpoint.pt")  # as d30d44d wrote it
    assert load_config(migrate_saved(saved)).augment == cfg.augment
    results = train(cfg, resume=True, progress=False)  # no config difference: loads every state, then evaluates
    assert "resumed from" in capsys.readouterr().out and results
    assert (
        main(["evaluate", "--checkpoint", str(run / "checkpoint.pt"), "--out", str(tmp_path / "eval"), "--no-progress"])
        == 0
    )
    assert (tmp_path / "eval" / "results.json").is_file()
