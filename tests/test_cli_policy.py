"""One output and error policy for every command: ``--out`` checked before any work, nothing made earlier
replaced without ``--force``, one ``error:`` line (exit 2) for bad input, interrupts that name the command."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from dhaug import checkpoint
from dhaug.cli import main
from dhaug.config import load_config
from dhaug.models import build_model

TINY = [
    "model.name=mlp",
    "model.channels=32",
    "model.stages=1",
    "data.dataset=synthetic",
    "data.train_subjects=[S1]",
    "data.downsample=10",
    "data.test_downsample=10",
    "train.epochs=1",
    "train.tail_epochs=0",
]


@pytest.fixture(scope="module")
def tiny_checkpoint(tmp_path_factory):
    """An untrained SimpleBaseline saved as a dhaug checkpoint (lift and evaluate only need a valid one)."""
    cfg = load_config(None, TINY)
    path = tmp_path_factory.mktemp("ckpt") / "checkpoint.pt"
    checkpoint.save_atomic({"model": build_model(cfg.model).state_dict(), "config": cfg.to_dict(), "epoch": 1}, path)
    return path


@pytest.fixture()
def keypoints(tmp_path):
    path = tmp_path / "kp.npy"
    np.save(path, np.random.default_rng(0).uniform(100, 900, (5, 17, 2)))
    return path


def one_error_line(capsys, code: int, needle: str) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2, err
    assert len(err) == 1 and err[0].startswith("error: ") and needle in err[0], err
    return err[0]


def snapshot(folder: Path) -> dict:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


# (name, files made before, command (strings formatted with {tmp}, {ckpt}, {kp}), error text)
CASES = [
    (
        "lift --out is a file",
        {"made.txt": b"keep"},
        [
            "lift",
            "--checkpoint",
            "{ckpt}",
            "--keypoints",
            "{kp}",
            "--image-size",
            "1000",
            "1000",
            "--out",
            "{tmp}/made.txt",
        ],
        "is a file",
    ),
    (
        "lift --out cannot be written",
        {},
        [
            "lift",
            "--checkpoint",
            "{ckpt}",
            "--keypoints",
            "{kp}",
            "--image-size",
            "1000",
            "1000",
            "--out",
            "/proc/dhaug",
        ],
        "cannot write there",
    ),
    (
        "lift into a folder holding an earlier picture",
        {"out/lifted.png": b"earlier"},
        ["lift", "--checkpoint", "{ckpt}", "--keypoints", "{kp}", "--image-size", "1000", "1000", "--out", "{tmp}/out"],
        "already holds lifted.png",
    ),
    (
        "train into a run without --resume or --force",
        {"run/checkpoint.pt": b"an earlier run"},
        ["train", "--out", "{tmp}/run", "--no-progress", *TINY],
        "already holds checkpoint.pt",
    ),
    (
        "train with a device that is not one",
        {},
        ["train", "--device", "gpu", "--out", "{tmp}/r", *TINY],
        "not a device",
    ),
    (
        "evaluate over an earlier evaluation",
        {"ev/results.json": b'{"results": {}}'},
        ["evaluate", "--checkpoint", "{ckpt}", "--out", "{tmp}/ev"],
        "already holds results.json",
    ),
    (
        "evaluate with a model override that does not fit",
        {},
        ["evaluate", "--checkpoint", "{ckpt}", "--out", "{tmp}/ev2", "model.channels=64"],
        "do not fit",
    ),
    ("evaluate a folder as checkpoint", {"adir/x": b""}, ["evaluate", "--checkpoint", "{tmp}/adir"], "folder"),
    (
        "evaluate a text file as checkpoint",
        {"ck.pt": b"not a checkpoint"},
        ["evaluate", "--checkpoint", "{tmp}/ck.pt"],
        "ck.pt",
    ),
    ("show-poses over an earlier picture", {"p.png": b"earlier"}, ["show-poses", "--out", "{tmp}/p.png"], "exists"),
    ("show-poses --n -1", {}, ["show-poses", "--out", "{tmp}/q.png", "--n", "-1"], "--n -1"),
    ("show-poses --out not writable", {}, ["show-poses", "--out", "/proc/dhaug/p.png"], "cannot write there"),
    ("generate --out not writable", {}, ["generate", "--random", "--n", "10", "--out", "/proc/dhaug"], "/proc/dhaug"),
    (
        "generate over an earlier file",
        {"g.npz": b"earlier"},
        ["generate", "--random", "--n", "10", "--format", "cross", "--out", "{tmp}/g.npz"],
        "exists",
    ),
    (
        "export-bvh over an earlier file",
        {"m.bvh": b"earlier"},
        ["export-bvh", "{kp}", "--out", "{tmp}/m.bvh"],
        "exists",
    ),
]


@pytest.mark.parametrize("name, made, command, needle", CASES, ids=[c[0] for c in CASES])
def test_bad_output_or_input_is_one_error_line_and_nothing_is_lost(
    tmp_path, capsys, tiny_checkpoint, keypoints, name, made, command, needle
):
    for rel, data in made.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_bytes(data)
    before = snapshot(tmp_path)
    args = [a.format(tmp=tmp_path, ckpt=tiny_checkpoint, kp=keypoints) for a in command]
    one_error_line(capsys, main(args), needle)
    assert snapshot(tmp_path) == before  # nothing replaced, nothing left behind


def test_force_replaces_and_resume_continues(tmp_path, capsys):
    run = tmp_path / "run"
    assert main(["train", "--out", str(run), "--no-progress", *TINY]) == 0
    first = json.loads((run / "results.json").read_text())
    assert main(["train", "--out", str(run), "--no-progress", *TINY]) == 2
    assert main(["train", "--out", str(run), "--no-progress", "--force", *TINY]) == 0
    assert json.loads((run / "results.json").read_text())["results"] == first["results"]  # same seed, same run
    assert main(["train", "--out", str(run), "--no-progress", "--resume", *TINY]) == 0
    ev = tmp_path / "ev"
    assert main(["evaluate", "--checkpoint", str(run / "checkpoint.pt"), "--out", str(ev), "--no-progress"]) == 0
    assert main(["evaluate", "--checkpoint", str(run / "checkpoint.pt"), "--out", str(ev), "--no-progress"]) == 2
    assert (
        main(["evaluate", "--checkpoint", str(run / "checkpoint.pt"), "--out", str(ev), "--no-progress", "--force"])
        == 0
    )


def test_show_poses_creates_the_missing_folder(tmp_path, capsys):
    out = tmp_path / "new" / "deeper" / "poses.png"
    assert main(["show-poses", "--out", str(out), "--n", "2"]) == 0
    assert out.stat().st_size > 1000


def test_debug_shows_the_traceback(tmp_path, monkeypatch):
    monkeypatch.setenv("DHAUG_DEBUG", "1")
    with pytest.raises(Exception, match="cannot write there"):
        main(["show-poses", "--out", "/proc/dhaug/p.png"])
    monkeypatch.delenv("DHAUG_DEBUG")
    with pytest.raises(Exception, match="cannot write there"):
        main(["--debug", "show-poses", "--out", "/proc/dhaug/p.png"])


def test_ctrl_c_names_the_command(monkeypatch, capsys):
    import dhaug.cli

    def interrupted(args):
        raise KeyboardInterrupt

    monkeypatch.setattr(dhaug.cli, "cmd_generate", interrupted)
    assert main(["generate", "--random", "--n", "1", "--out", "x"]) == 130
    assert capsys.readouterr().err.strip() == (
        "dhaug generate interrupted; nothing was written and its temporary files are removed"
    )


def test_sigterm_during_generate_removes_its_temporary_files(tmp_path):
    out = tmp_path / "gen"
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "dhaug",
            "generate",
            "--random",
            "--n",
            "3000000",
            "--chunk",
            "20000",
            "--out",
            str(out),
            "--no-progress",
        ],
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    deadline = time.time() + 120
    while time.time() < deadline and not any(p.name.startswith(".gen.") for p in tmp_path.iterdir()):
        time.sleep(0.2)  # wait until it has made its temporary folder
    assert any(p.name.startswith(".gen.") for p in tmp_path.iterdir()), "generate made no temporary folder"
    time.sleep(1.0)
    proc.send_signal(signal.SIGTERM)
    err = proc.communicate(timeout=120)[1]
    assert proc.returncode == 143, err
    assert "dhaug generate terminated (SIGTERM)" in err
    assert list(tmp_path.iterdir()) == []  # no output, no hidden temporary folder
