"""The training loop on tiny self-made data: it learns, resumes exactly, and refuses bad input."""

import json

import numpy as np
import pytest
import torch

from dhaug import checkpoint
from dhaug.cli import main
from dhaug.config import load_config
from dhaug.data import ExperimentData, PoseSet
from dhaug.errors import ConfigError
from dhaug.schedule import learning_rate
from dhaug.train import DivergenceError, train


def tiny_set(n, seed, name):
    """A learnable toy mapping: 3D = fixed linear function of the 2D input."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 16, 2)).astype(np.float32) * 0.3
    W = np.random.default_rng(99).normal(size=(32, 48)).astype(np.float32) * 0.05
    y = (x.reshape(n, 32) @ W).reshape(n, 16, 3)
    y -= y[:, :1]
    return PoseSet(
        pose2d=x,
        pose3d=y.astype(np.float32),
        root=np.zeros((n, 3), np.float32),
        action=np.arange(n) % 2,
        seq=np.zeros(n, np.int64),
        frame=np.arange(n),
        camera=np.zeros(n, np.int64),
        action_names=["a", "b"],
        seq_names=["s"],
        name=name,
    )


def tiny_data():
    return ExperimentData(
        train=tiny_set(600, 0, "train"),
        tests={"test": tiny_set(100, 1, "test"), "other": tiny_set(50, 2, "other")},
        cross=["other"],
        description="toy",
    )


def tiny_cfg(out, *extra):
    return load_config(
        None,
        [
            f"out_dir={out}",
            "model.name=mlp",
            "model.channels=64",
            "model.stages=1",
            "train.epochs=3",
            "train.tail_epochs=1",
            "train.lr=3e-3",
            "train.batch_size=128",
            *extra,
        ],
    )


def test_learning_rate_schedule():
    cfg = tiny_cfg("x", "train.epochs=50", "train.tail_epochs=60", "train.lr=1e-4").train
    assert learning_rate(0, cfg) == 1e-4
    assert learning_rate(49, cfg) == pytest.approx(1e-4 * (1 - 49 / 51))
    assert learning_rate(50, cfg) == pytest.approx(1e-4 / 51 * 0.95)
    assert learning_rate(109, cfg) == pytest.approx(1e-4 / 51 * 0.95**60)
    flat = tiny_cfg("x", "train.epochs=50", "train.tail_epochs=60", "train.lr=1e-4", "train.lr_decay=constant").train
    assert [learning_rate(e, flat) for e in (0, 49)] == [1e-4, 1e-4]
    assert learning_rate(50, flat) == learning_rate(50, cfg)
    with pytest.raises(ConfigError, match="train.lr_decay must be one of"):
        tiny_cfg("x", "train.lr_decay=cosine")


def test_training_learns_and_writes_reports(tmp_path):
    res = train(tiny_cfg(tmp_path), data=tiny_data(), progress=False)
    payload = json.loads((tmp_path / "results.json").read_text())
    hist = payload["history"]
    assert len(hist) == 4 and hist[-1]["train_loss"] < hist[0]["train_loss"] / 2
    assert set(res) == {"test", "other"} and res["other"]["flip_test"] and not res["test"]["flip_test"]
    for f in ("results.md", "curves.png", "per_action.png", "examples_test.png", "checkpoint.pt", "config.yaml"):
        assert (tmp_path / f).is_file(), f
    assert list((tmp_path / "tensorboard").iterdir())
    md = (tmp_path / "results.md").read_text()
    assert "frame mean" in md and "action mean" in md and "| a |" in md


def test_resume_continues_exactly(tmp_path, monkeypatch):
    straight = tmp_path / "straight"
    train(tiny_cfg(straight), data=tiny_data(), progress=False)

    killed = tmp_path / "killed"
    real_save = checkpoint.save_atomic

    def save_then_die(obj, path):  # the process is killed right after epoch 2's checkpoint
        real_save(obj, path)
        if obj["epoch"] == 2:
            raise KeyboardInterrupt

    monkeypatch.setattr(checkpoint, "save_atomic", save_then_die)
    with pytest.raises(KeyboardInterrupt):
        train(tiny_cfg(killed), data=tiny_data(), progress=False)
    monkeypatch.setattr(checkpoint, "save_atomic", real_save)
    assert checkpoint.load(killed / "checkpoint.pt")["epoch"] == 2
    torch.manual_seed(12345)  # a fresh process would start with other RNG state: the checkpoint restores it
    train(tiny_cfg(killed), resume=True, data=tiny_data(), progress=False)
    a = checkpoint.load(straight / "checkpoint.pt")
    b = checkpoint.load(killed / "checkpoint.pt")
    assert b["epoch"] == 4 and [h["train_loss"] for h in a["history"]] == [h["train_loss"] for h in b["history"]]
    for k in a["model"]:
        torch.testing.assert_close(a["model"][k], b["model"][k], rtol=0, atol=0)


def test_resume_refuses_a_different_config(tmp_path):
    train(tiny_cfg(tmp_path, "train.epochs=1", "train.tail_epochs=0"), data=tiny_data(), progress=False)
    with pytest.raises(ValueError, match="config differs"):
        train(
            tiny_cfg(tmp_path, "train.epochs=1", "train.tail_epochs=0", "train.lr=1e-2"),
            resume=True,
            data=tiny_data(),
            progress=False,
        )


def test_divergence_stops_and_keeps_last_good_checkpoint(tmp_path):
    cfg = tiny_cfg(tmp_path, "train.epochs=1", "train.tail_epochs=0")
    train(cfg, data=tiny_data(), progress=False)
    good = checkpoint.load(tmp_path / "checkpoint.pt")
    bad = tiny_data()
    bad.train.pose3d[5, 3, 0] = np.inf
    cfg2 = tiny_cfg(tmp_path, "train.epochs=2", "train.tail_epochs=0")
    state = dict(good)
    state["config"] = cfg2.to_dict()
    checkpoint.save_atomic(state, tmp_path / "checkpoint.pt")
    with pytest.raises(DivergenceError, match="epoch 2"):
        train(cfg2, resume=True, data=bad, progress=False)
    after = checkpoint.load(tmp_path / "checkpoint.pt")
    assert after["epoch"] == 1
    for k, v in after["model"].items():
        assert torch.isfinite(v.float()).all()


@pytest.mark.parametrize(
    "argv, match",
    [
        (["train", "--data-dir", "/nonexistent/h36m"], "data folder /nonexistent/h36m does not exist"),
        (["train", "train.epochs=abc"], "train.epochs"),
        (["train", "--config", "/nonexistent.yaml"], "config file /nonexistent.yaml not found"),
        (["evaluate", "--checkpoint", "/nonexistent.pt"], "checkpoint /nonexistent.pt not found"),
        (
            ["train", "--data-dir", ".", "--cross", "/nonexistent.npz", "data.dataset=h36m"],
            "data_3d_h36m.npz: file not found",
        ),
        (["train", "--device", "gpu", "data.dataset=synthetic"], "train.device (--device) = 'gpu' is not a device"),
        (["train", "--device", "meta", "data.dataset=synthetic"], "dhaug runs on 'cpu' or 'cuda'"),
        pytest.param(
            ["train", "--device", "cuda", "data.dataset=synthetic"],
            "but CUDA is not available",
            marks=pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA"),
        ),
    ],
)
def test_cli_errors_are_one_clear_line(argv, match, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and match in err and "Traceback" not in err


def test_cli_train_then_evaluate_on_synthetic(tmp_path, capsys):
    out = tmp_path / "run"
    args = [
        "train",
        "--out",
        str(out),
        "--no-progress",
        "data.dataset=synthetic",
        "data.train_subjects=[S1]",
        "data.downsample=10",
        "data.test_downsample=10",
        "model.name=mlp",
        "model.channels=32",
        "model.stages=1",
        "train.epochs=1",
        "train.tail_epochs=0",
    ]
    assert main(args) == 0
    assert main(["evaluate", "--checkpoint", str(out / "checkpoint.pt"), "--out", str(tmp_path / "eval")]) == 0
    a = json.loads((out / "results.json").read_text())["results"]
    b = json.loads((tmp_path / "eval" / "results.json").read_text())["results"]
    assert a["synthetic"]["frame_mean"]["mpjpe"] == b["synthetic"]["frame_mean"]["mpjpe"]
    assert "checkpoint after epoch 1" in (tmp_path / "eval" / "results.md").read_text()


def test_cli_evaluate_never_replaces_the_runs_results_and_scores_only_the_given_files(tmp_path, capsys):
    from dhaug.data.synthetic import make_synthetic_cross_set

    out = tmp_path / "run"
    assert (
        main(
            [
                "train",
                "--out",
                str(out),
                "--no-progress",
                "data.dataset=synthetic",
                "data.train_subjects=[S1]",
                "data.downsample=10",
                "data.test_downsample=10",
                "model.name=mlp",
                "model.channels=32",
                "model.stages=1",
                "train.epochs=1",
                "train.tail_epochs=0",
            ]
        )
        == 0
    )
    own = (out / "results.json").read_text()
    np.savez(tmp_path / "other.npz", **make_synthetic_cross_set())
    assert main(["evaluate", "--checkpoint", str(out / "checkpoint.pt"), "--cross", str(tmp_path / "other.npz")]) == 0
    assert (out / "results.json").read_text() == own  # the training run's results are untouched
    res = json.loads((out / "evaluate_other" / "results.json").read_text())["results"]
    assert list(res) == ["other"]  # only the file asked for: Human3.6M/synthetic in-domain not scored
    capsys.readouterr()
    assert main(["evaluate", "--checkpoint", str(out / "checkpoint.pt"), "--out", str(out)]) == 2
    assert "holds a training run's results" in capsys.readouterr().err
    assert (out / "results.json").read_text() == own


def test_configs_saved_before_a_field_existed_keep_their_behaviour():
    from dhaug.config import load_config

    saved = load_config(None).to_dict()
    del saved["train"]["drop_last"]  # a checkpoint written before train.drop_last existed
    assert load_config(saved).train.drop_last is False  # those runs trained on the short last batch
    assert load_config({"train": {"epochs": 3}}).train.drop_last is True  # a partial dict is not a saved config
    assert load_config(None).train.drop_last is True


def test_version_and_module_entry_point(capsys):
    import subprocess
    import sys

    with pytest.raises(SystemExit) as e:
        main(["--version"])
    assert e.value.code == 0 and capsys.readouterr().out.startswith("dhaug 0.")
    r = subprocess.run([sys.executable, "-m", "dhaug", "--help"], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0 and "usage: dhaug" in r.stdout
