"""Checkpoints load without running code: plain values only, old numpy-holding files still readable,
malicious files refused before anything in them runs, and RNG states that resume exactly."""

import random
from collections import OrderedDict
from pathlib import Path

import numpy as np
import pytest
import torch

from dhaug import checkpoint
from dhaug.augment import DHAugmenter
from dhaug.cli import main
from dhaug.config import load_config
from dhaug.errors import DataError
from dhaug.kinematics import PAPER
from tests.test_gan import S1, real_set, small_settings


def draws() -> tuple:
    """The next numbers of every RNG a training run uses."""
    return torch.rand(4).tolist(), np.random.rand(4).tolist(), np.random.randn(), [random.random() for _ in range(4)]


def model_state() -> dict:
    net = torch.nn.Sequential(torch.nn.Linear(3, 2), torch.nn.BatchNorm1d(2))
    return {"model": net.state_dict(), "config": load_config(None).to_dict(), "epoch": 1}


def test_new_checkpoint_round_trips_exactly_and_needs_no_numpy(tmp_path):
    cams, cam3d, root, ci = real_set(128)
    aug = DHAugmenter(cams, S1[None], PAPER, settings=small_settings(n_critic=1), seed=0)
    aug.fit_epoch(cam3d, root, ci, progress=False)  # optimiser moments, a used generator state
    np.random.randn()  # numpy's cached Gaussian is part of its state
    state = {
        **model_state(),
        "history": [{"loss": np.float64(0.25), "lr": 1e-3, "gan/g": None}],
        "rng": checkpoint.rng_state(),
        "augmenter": aug.state_dict(),
    }
    expected = draws()
    checkpoint.save_atomic(state, tmp_path / "c.pt")
    raw = torch.load(tmp_path / "c.pt", weights_only=True)  # no allow-list at all: nothing but plain values
    assert type(raw["history"][0]["loss"]) is float and isinstance(raw["rng"]["numpy"]["key"], torch.Tensor)
    loaded = checkpoint.load(tmp_path / "c.pt")
    assert loaded["config"] == state["config"] and loaded["history"] == [{"loss": 0.25, "lr": 1e-3, "gan/g": None}]
    assert loaded["model"]._metadata == state["model"]._metadata  # module versions travel with the weights
    torch.manual_seed(5), np.random.seed(5), random.seed(5)
    checkpoint.set_rng_state(loaded["rng"])
    assert draws() == expected
    other = DHAugmenter(cams, S1[None], PAPER, settings=small_settings(n_critic=1), seed=99)
    other.load_state_dict(loaded["augmenter"])
    a, b = aug.fit_epoch(cam3d, root, ci, progress=False), other.fit_epoch(cam3d, root, ci, progress=False)
    torch.testing.assert_close(a["pose2d"], b["pose2d"], rtol=0, atol=0)
    assert a["g"] == b["g"]


def test_old_checkpoint_with_numpy_inside_still_loads(tmp_path):
    np.random.randn()
    old_rng = {"torch": torch.get_rng_state(), "numpy": np.random.get_state(), "python": random.getstate()}
    expected = draws()
    state = {
        **model_state(),
        "rng": old_rng,
        "history": [{"loss": np.float64(0.5), "eval/x": np.float32(2.0)}],
        "extra": np.arange(6, dtype=np.int32).reshape(2, 3),
    }
    torch.save(state, tmp_path / "old.pt")  # what dhaug wrote before its checkpoints were plain
    with pytest.raises(Exception):  # the plain reader alone refuses it: numpy globals are needed
        torch.load(tmp_path / "old.pt", weights_only=True)
    loaded = checkpoint.load(tmp_path / "old.pt")
    assert loaded["history"] == [{"loss": 0.5, "eval/x": 2.0}] and type(loaded["history"][0]["loss"]) is float
    assert torch.equal(loaded["extra"], torch.arange(6, dtype=torch.int32).reshape(2, 3))
    torch.manual_seed(5), np.random.seed(5), random.seed(5)
    checkpoint.set_rng_state(loaded["rng"])
    assert draws() == expected
    checkpoint.save_atomic(loaded, tmp_path / "new.pt")  # re-saved: the plain format
    torch.load(tmp_path / "new.pt", weights_only=True)


class Payload:
    """Unpickling this runs code: it creates the file ``marker``."""

    def __init__(self, marker: Path):
        self.marker = str(marker)

    def __reduce__(self):
        return eval, (f"__import__('pathlib').Path({self.marker!r}).touch()",)


def test_malicious_checkpoint_is_refused_and_its_code_never_runs(tmp_path, capsys):
    def write(name: str) -> tuple[Path, Path]:
        marker = tmp_path / f"{name}.ran"
        torch.save({**model_state(), "history": [Payload(marker)]}, tmp_path / f"{name}.pt")
        return tmp_path / f"{name}.pt", marker

    path, marker = write("proof")
    torch.load(path, weights_only=False)  # the payload works: full unpickling runs it
    assert marker.exists()

    path, marker = write("evil")
    with pytest.raises(DataError, match=r"evil\.pt holds objects of builtins\.eval; refused"):
        checkpoint.load(path)
    assert main(["evaluate", "--checkpoint", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: checkpoint") and "refused" in err and "Traceback" not in err
    assert not marker.exists()


def test_old_file_with_an_object_array_is_refused(tmp_path):
    torch.save({**model_state(), "x": np.array([1, "a"], dtype=object)}, tmp_path / "obj.pt")
    with pytest.raises(DataError, match="ObjectDType"):
        checkpoint.load(tmp_path / "obj.pt")


def test_plain_converts_numpy_and_refuses_what_cannot_be_loaded_safely(tmp_path):
    sd = OrderedDict(w=np.ones(2, np.float32), n=np.int64(3))
    sd._metadata = {"": {"version": 2}}
    out = checkpoint.plain({"sd": sd, "t": (np.float32(1.5), "s", None, True)})
    assert type(out["sd"]) is OrderedDict and out["sd"]._metadata == {"": {"version": 2}}
    assert isinstance(out["sd"]["w"], torch.Tensor) and type(out["sd"]["n"]) is int
    assert out["t"] == (1.5, "s", None, True) and type(out["t"][0]) is float
    unchanged = model_state()
    assert checkpoint.plain(unchanged) is unchanged  # nothing to convert: nothing copied
    with pytest.raises(TypeError, match=r"checkpoint\['config'\]\['where'\] is a pathlib\.\w*Path"):
        checkpoint.save_atomic({"model": {}, "config": {"where": tmp_path}}, tmp_path / "bad.pt")
    assert not (tmp_path / "bad.pt").exists()


def test_damaged_and_foreign_files_are_data_errors(tmp_path):
    (tmp_path / "cut.pt").write_bytes(b"PK\x03\x04 not a zip")
    with pytest.raises(DataError, match="corrupt or truncated"):
        checkpoint.load(tmp_path / "cut.pt")
    full = tmp_path / "full.pt"
    checkpoint.save_atomic({"model": {"w": torch.zeros(1000)}, "config": {}}, full)
    (tmp_path / "half.pt").write_bytes(full.read_bytes()[: full.stat().st_size // 2])
    with pytest.raises(DataError, match="corrupt or truncated"):
        checkpoint.load(tmp_path / "half.pt")
    (tmp_path / "notes.pt").write_text("hello, not a checkpoint\n")
    with pytest.raises(DataError, match="not a PyTorch checkpoint file"):
        checkpoint.load(tmp_path / "notes.pt")
    with pytest.raises(DataError, match="is a folder; give the file inside it"):
        checkpoint.load(tmp_path)
    torch.save({"weights": torch.zeros(2)}, tmp_path / "other.pt")
    with pytest.raises(DataError, match="not a dhaug checkpoint"):
        checkpoint.load(tmp_path / "other.pt")


def test_dhaug_run_written_in_the_old_format_resumes_exactly(tmp_path, monkeypatch):
    from dhaug.train import train
    from tests.conftest import tiny_dhaug_config as cfg

    train(cfg(tmp_path / "straight"), progress=False)
    real_save = checkpoint.save_atomic

    def save_old_then_die(obj, path):  # epoch 2's checkpoint as the old code wrote it, then a kill
        if obj["epoch"] < 2:
            return real_save(obj, path)
        npy = obj["rng"]["numpy"]
        old = dict(
            obj,
            rng=dict(
                obj["rng"],
                numpy=(
                    npy["bit_generator"],
                    npy["key"].numpy().astype(np.uint32),
                    npy["pos"],
                    npy["has_gauss"],
                    npy["gauss"],
                ),
            ),
            history=[{k: np.float64(v) if isinstance(v, float) else v for k, v in h.items()} for h in obj["history"]],
        )
        torch.save(old, path)
        raise KeyboardInterrupt

    monkeypatch.setattr(checkpoint, "save_atomic", save_old_then_die)
    with pytest.raises(KeyboardInterrupt):
        train(cfg(tmp_path / "killed"), progress=False)
    monkeypatch.setattr(checkpoint, "save_atomic", real_save)
    with pytest.raises(Exception):
        torch.load(tmp_path / "killed" / "checkpoint.pt", weights_only=True)  # really the old format
    torch.manual_seed(777), np.random.seed(777), random.seed(777)
    train(cfg(tmp_path / "killed"), resume=True, progress=False)
    a, b = (
        torch.load(tmp_path / d / "checkpoint.pt", weights_only=True) for d in ("straight", "killed")
    )  # plain again
    assert b["epoch"] == 3 and [h["train_loss"] for h in a["history"][1:]] == [
        h["train_loss"] for h in b["history"][1:]
    ]
    for x, y in [(a["model"], b["model"])] + [(a["augmenter"][k], b["augmenter"][k]) for k in ("G", "D3", "D2")]:
        for k in x:
            torch.testing.assert_close(x[k], y[k], rtol=0, atol=0)
