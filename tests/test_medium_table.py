"""The medium table's DH-AUG comparisons (benchmarks/medium.py): differences, spreads and seed verdicts."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import medium  # noqa: E402  (benchmarks/ is not a package)


def _run(variant: str, seed: int, h36m: float, cmu: float | None = None, model: str = "mlp") -> dict:
    results = {"h36m": {"frame_mean": {"mpjpe": h36m}}}
    if cmu is not None:
        results["cmu_val"] = {"frame_mean": {"mpjpe": cmu}}
    return {"model": model, "frames": 1, "variant": variant, "seed": seed, "results": results}


def test_comparisons_differences_and_verdicts():
    runs = [
        _run("dhaug", 0, 44.0, 60.0),
        _run("dhaug", 1, 45.0, 70.0),
        _run("none", 0, 50.0, 150.0),
        _run("none", 1, 49.0, 160.0),
        _run("random", 0, 44.5, 65.0),
        _run("random", 1, 43.0, 75.0),
        _run("poseaug", 0, 40.0),
    ]
    md = medium.comparisons(runs, ["h36m", "cmu_val", "cmu_test"])
    rows = {line.split(" | ")[1]: line for line in md if line.startswith("| mlp |")}
    assert set(rows) == {"none", "random", "poseaug"}
    assert "cmu_test" not in md[7]  # the whole file is not compared
    assert "-5.0 (±0.5, ±0.5) lower" in rows["none"]
    assert "-90.0 (±5.0, ±5.0) lower" in rows["none"]
    assert "+0.8 (±0.5, ±0.8) overlap" in rows["random"]
    assert "+4.5 (±0.5, ±0.0) 1 seed" in rows["poseaug"]
    assert rows["poseaug"].endswith("1 seed |  |")  # PoseAug has no cmu_val: an empty last cell


def test_comparisons_higher_and_absent():
    runs = [_run("dhaug", s, 50.0 + s) for s in (0, 1)] + [_run("none", s, 45.0 + s) for s in (0, 1)]
    md = medium.comparisons(runs, ["h36m"])
    assert any("+5.0 (±0.5, ±0.5) higher" in line for line in md)
    assert medium.comparisons([_run("none", 0, 50.0)], ["h36m"]) == []  # no DH-AUG row: no section


def test_summary_of_a_resumed_run_counts_the_epochs_before_the_resume(tmp_path):
    import json

    config = {"model": {"name": "mlp", "frames": 1}, "train": {"seed": 0}}
    hist = [{"epoch": e + 1, "seconds": 100.0} for e in range(4)]
    res = {"config": config, "history": hist, "results": {}}
    (tmp_path / "results.json").write_text(json.dumps(res))
    fresh = medium.summarise(tmp_path, "mlp_none_s0", "none", 450.0, "abc")
    resumed = medium.summarise(tmp_path, "mlp_none_s0", "none", 250.0, "abc", resumed_after=2)
    assert fresh["wall_s"] == 450.0 and fresh["resumed_after_epoch"] is None
    assert resumed["wall_s"] == 450.0 and resumed["resumed_after_epoch"] == 2
    assert medium.epochs_done(tmp_path) == 0  # no checkpoint: a fresh start
