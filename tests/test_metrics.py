import numpy as np
import torch

from dhaug.metrics import AUC_THRESHOLDS_MM, auc, mpjpe, p_mpjpe, pck, procrustes_align, summarize


def random_rotation(rng, n):
    q = rng.normal(size=(n, 4))
    q /= np.linalg.norm(q, axis=1, keepdims=True)
    w, x, y, z = q.T
    return np.stack(
        [
            np.stack([1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)], -1),
            np.stack([2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)], -1),
            np.stack([2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)], -1),
        ],
        1,
    )


def test_mpjpe_by_hand():
    a = torch.zeros(1, 16, 3, dtype=torch.float64)
    b = a.clone()
    b[0, 3] = torch.tensor([3.0, 4.0, 0.0])
    assert mpjpe(a, b).item() == 5.0 / 16


def test_p_mpjpe_removes_similarity_transforms_only():
    rng = np.random.default_rng(0)
    x = torch.as_tensor(rng.normal(size=(20, 16, 3)))
    R = torch.as_tensor(random_rotation(rng, 20))
    y = 1.7 * x @ R.transpose(1, 2) + torch.as_tensor(rng.normal(size=(20, 1, 3)))
    assert p_mpjpe(y, x).max() < 1e-10
    mirrored = x * torch.tensor([-1.0, 1.0, 1.0], dtype=torch.float64)
    assert p_mpjpe(mirrored, x).min() > 1e-3  # no reflections


def test_procrustes_is_optimal_against_perturbations():
    rng = np.random.default_rng(1)
    x = torch.as_tensor(rng.normal(size=(10, 16, 3)))
    y = x + 0.3 * torch.as_tensor(rng.normal(size=(10, 16, 3)))
    best = ((procrustes_align(y, x) - x) ** 2).sum((-1, -2))
    for _ in range(20):  # small random similarity perturbations of the aligned pose never do better
        dR = torch.as_tensor(random_rotation(rng, 1)[0])
        dR = torch.linalg.matrix_exp(0.02 * (dR - dR.T))
        al = procrustes_align(y, x)
        mu = al.mean(1, keepdim=True)
        pert = (1 + 0.01 * rng.normal()) * (al - mu) @ dR.T + mu + 0.005 * torch.as_tensor(rng.normal(size=3))
        assert torch.all(((pert - x) ** 2).sum((-1, -2)) >= best - 1e-9)


def test_pck_and_auc_by_hand():
    gt = torch.zeros(1, 16, 3, dtype=torch.float64)
    pred = gt.clone()
    pred[0, :8, 0] = 0.100  # 8 joints at 100 mm
    pred[0, 8:, 0] = 0.200  # 8 joints at 200 mm
    assert pck(pred, gt).item() == 50.0
    assert len(AUC_THRESHOLDS_MM) == 31 and AUC_THRESHOLDS_MM[-1] == 150.0
    # thresholds > 100 mm (105..150: 10 of 31) count the first 8 joints
    np.testing.assert_allclose(auc(pred, gt).item(), 100 * (10 / 31) * 0.5)


def test_summarize_frame_and_action_means():
    per_pose = {"mpjpe": np.array([10.0, 10.0, 10.0, 40.0])}
    s = summarize(per_pose, np.array([0, 0, 0, 1]), ["a", "b"])
    assert s["frame_mean"]["mpjpe"] == 17.5
    assert s["action_mean"]["mpjpe"] == 25.0
    assert s["per_action"]["b"]["frames"] == 1
    assert "sequence_mean" not in s
    s = summarize(per_pose, np.array([0, 0, 0, 1]), ["a", "b"], seq=np.array([7, 3, 3, 3]))
    assert s["sequence_mean"]["mpjpe"] == 0.5 * (10.0 + 20.0) and s["sequence_mean"]["sequences"] == 2


def test_metrics_root_centre_a_free_root():
    """SemGCN predicts the root too: a pose shifted as a whole is the same pose (method.md §9)."""
    from dhaug.metrics import pose_metrics

    g = torch.Generator().manual_seed(0)
    target = torch.randn(8, 16, 3, generator=g, dtype=torch.float64) * 0.3
    target = target - target[:, :1]
    pred = target + torch.tensor([0.047, -0.02, 0.03], dtype=torch.float64)  # the whole pose 5.9 cm off
    m = pose_metrics(pred, target)
    exact = pose_metrics(target, target)
    assert float(m["mpjpe"].max()) < 1e-9 and float(m["pck"].min()) == 100.0
    torch.testing.assert_close(m["auc"], exact["auc"])


def test_evaluation_root_centres_semgcn_and_flip_averaging():
    from dhaug.data.poseset import PoseSet
    from dhaug.evaluate import evaluate_set

    class Shifted(torch.nn.Module):  # a perfect pose with its root 45 mm off, like an untrained free root
        def __init__(self, y):
            super().__init__()
            self.y = y

        def forward(self, x):
            return self.y[: len(x)] + torch.tensor([0.045, 0.0, 0.0])

    n = 6
    y = torch.randn(n, 16, 3, generator=torch.Generator().manual_seed(1)) * 0.3
    y = y - y[:, :1]
    s = PoseSet(
        pose2d=np.zeros((n, 16, 2), np.float32),
        pose3d=y.numpy(),
        root=np.zeros((n, 3), np.float32),
        action=np.zeros(n, np.int64),
        seq=np.zeros(n, np.int64),
        frame=np.arange(n),
        camera=np.zeros(n, np.int64),
        action_names=["a"],
        seq_names=["s"],
        name="t",
        fps=50.0,
    )
    r = evaluate_set(Shifted(y), s, "cpu", flip_test=False)
    assert r["frame_mean"]["mpjpe"] < 1e-3
