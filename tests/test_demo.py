"""The front door: ``dhaug demo`` on the built-in synthetic data, shortened to one epoch and one model."""
import json

from dhaug.cli import main


def test_demo_runs_end_to_end(tmp_path, capsys):
    assert main(["demo", "--out", str(tmp_path), "--epochs", "1", "--models", "mlp"]) == 0
    out = capsys.readouterr().out
    assert "SYNTHETIC" in out and "| mlp |" in out
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert set(summary["mlp"]) == {"synthetic", "synthetic_other"}
    for f in ("summary.png", "summary.md", "mlp/results.md", "mlp/per_action.png", "mlp/examples_synthetic_other.png"):
        assert (tmp_path / f).is_file(), f
