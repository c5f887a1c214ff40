"""Multi-frame pieces: temporal windows, the temporal VideoPose3D and PoseFormer, and training and
evaluating a multi-frame lifter end to end on the built-in synthetic data."""
import json

import numpy as np
import pytest
import torch

from dhaug.data.windows import centre_rows, sequence_bounds, step_for_rate, window_rows
from dhaug.errors import DataError
from dhaug.models import PoseFormer, VideoPoseTemporal, widths_for_frames


def test_windows_are_edge_replicated_inside_their_sequence():
    seq = np.array([0, 0, 0, 0, 0, 1, 1, 2])
    rows = window_rows(seq, 5)
    assert rows.shape == (8, 5)
    np.testing.assert_array_equal(rows[0], [0, 0, 0, 1, 2])
    np.testing.assert_array_equal(rows[2], [0, 1, 2, 3, 4])
    np.testing.assert_array_equal(rows[4], [2, 3, 4, 4, 4])
    np.testing.assert_array_equal(rows[5], [5, 5, 5, 6, 6])
    np.testing.assert_array_equal(rows[7], [7] * 5)
    assert np.all(seq[rows] == seq[rows[:, :1]])
    stepped = window_rows(np.zeros(30, int), 3, step=10, centres=np.array([0, 15, 29]))
    np.testing.assert_array_equal(stepped, [[0, 0, 10], [5, 15, 25], [19, 29, 29]])
    with pytest.raises(DataError, match="sequence 0 are not contiguous"):
        sequence_bounds(np.array([0, 0, 1, 0]), "toy")
    with pytest.raises(ValueError, match="odd"):
        window_rows(seq, 4)


def test_centres_and_rates():
    from dhaug.data import PoseSet
    n = 20
    s = PoseSet(np.zeros((n, 16, 2), np.float32), np.zeros((n, 16, 3), np.float32), np.zeros((n, 3), np.float32),
                np.zeros(n, int), np.zeros(n, int), np.arange(n), np.zeros(n, int), fps=50.0)
    np.testing.assert_array_equal(centre_rows(s, 8), [0, 8, 16])
    assert step_for_rate(s, 5.0) == 10 and step_for_rate(s, 100.0) == 1


def test_architecture_from_frames():
    assert widths_for_frames(9) == (3, 3) and widths_for_frames(27) == (3, 3, 3) and widths_for_frames(81) == (3,) * 4
    with pytest.raises(ValueError, match="powers of 3"):
        widths_for_frames(7)


def test_temporal_videopose_windows_equal_whole_sequence():
    torch.manual_seed(0)
    m = VideoPoseTemporal((3, 3), channels=32).eval()
    seq = torch.randn(40, 16, 2)
    rows = torch.as_tensor(window_rows(np.zeros(40, int), 9))
    with torch.no_grad():
        by_window = m(seq[rows])
        whole = m.forward_sequence(seq)
    assert by_window.shape == (40, 16, 3) and torch.all(by_window[:, 0] == 0)
    torch.testing.assert_close(by_window, whole, atol=1e-5, rtol=1e-4)
    with pytest.raises(ValueError, match="9 frames"):
        m(torch.randn(2, 5, 16, 2))


def test_poseformer_shapes_and_gradients():
    torch.manual_seed(0)
    m = PoseFormer(frames=9, embed_ratio=8, depth=2, heads=2)
    x = torch.randn(4, 9, 16, 2, requires_grad=True)
    y = m(x)
    assert y.shape == (4, 16, 3) and torch.all(y[:, 0] == 0)
    y.pow(2).sum().backward()
    assert x.grad is not None and torch.isfinite(x.grad).all()
    m.eval()  # no stochastic depth at test time: deterministic
    torch.testing.assert_close(m(x), m(x))
    with pytest.raises(ValueError, match="9, 16, 2"):
        m(torch.randn(2, 3, 16, 2))


@pytest.mark.parametrize("model", ["videopose", "poseformer"])
def test_multi_frame_training_and_both_test_protocols(tmp_path, model):
    from dhaug.config import load_config
    from dhaug.train import train
    over = [f"out_dir={tmp_path}", "data.dataset=synthetic", "data.train_subjects=[S1]", "data.downsample=5",
            "data.test_downsample=10", f"model.name={model}", "model.frames=9", "model.channels=32",
            "model.embed_ratio=8", "model.depth=1", "model.heads=2", "train.epochs=2", "train.tail_epochs=0",
            "train.batch_size=256", "train.lr=1e-3"]
    res = train(load_config(None, over), progress=False)
    assert {"synthetic", "synthetic_train_rate", "synthetic_other"} <= set(res)
    assert res["synthetic"]["window"] == {"frames": 9, "step": 1, "fps": 50.0}
    assert res["synthetic_train_rate"]["window"]["step"] == 5
    for r in res.values():
        assert np.isfinite(r["frame_mean"]["mpjpe"])
    saved = json.loads((tmp_path / "results.json").read_text())
    assert "synthetic_train_rate" in saved["results"] or "synthetic_train_rate" in saved


def test_single_frame_backbones_refuse_windows():
    from dhaug.config import load_config
    from dhaug.errors import ConfigError
    from dhaug.models import build_model
    with pytest.raises(ConfigError, match="single-frame"):
        build_model(load_config(None, ["model.name=mlp", "model.frames=9"]).model)
    with pytest.raises(ConfigError, match="receptive field"):
        build_model(load_config(None, ["model.frames=9", "model.architecture=[3,3,3]"]).model)
