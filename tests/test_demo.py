"""The front door: ``dhaug demo`` on the built-in synthetic data, shortened to one epoch and one model."""

import json

from dhaug.cli import main


def test_demo_runs_end_to_end(tmp_path, capsys):
    assert (
        main(["demo", "--out", str(tmp_path), "--epochs", "1", "--models", "mlp", "--augment", "none", "random"]) == 0
    )
    out = capsys.readouterr().out
    assert "SYNTHETIC" in out and "| mlp_none |" in out and "| mlp_random |" in out
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert set(summary["runs"]) == {"mlp_none", "mlp_random"}
    assert set(summary["runs"]["mlp_none"]) == {"synthetic", "synthetic_other"}
    # the one-sentence reading is computed from the two runs' numbers
    r, base = (
        summary["runs"]["mlp_random"]["synthetic_other"]["mpjpe"],
        summary["runs"]["mlp_none"]["synthetic_other"]["mpjpe"],
    )
    assert (
        f"{100 * (r / base - 1):+.0f} % on synthetic_other" in summary["reading"] and "SYNTHETIC" in summary["reading"]
    )
    for f in (
        "summary.png",
        "summary.md",
        "mlp_none/results.md",
        "mlp_random/per_action.png",
        "mlp_none/examples_synthetic_other.png",
    ):
        assert (tmp_path / f).is_file(), f


def test_demo_reading_names_each_augmentation():
    from dhaug.demo import reading

    res = lambda a, b: {"in": {"frame_mean": {"mpjpe": a}}, "other": {"frame_mean": {"mpjpe": b}}}  # noqa: E731
    text = reading({"videopose_none": res(100.0, 200.0), "videopose_dhaug": res(90.0, 100.0)}, synthetic=True)
    assert "dhaug changes videopose's error by -10 % on in, -50 % on other" in text and "SYNTHETIC" in text
    assert reading({"videopose_none": res(1.0, 1.0)}, synthetic=True) == ""
