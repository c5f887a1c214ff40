import numpy as np
import torch

from dhaug.metrics import AUC_THRESHOLDS_MM, auc, mpjpe, p_mpjpe, pck, procrustes_align, summarize


def random_rotation(rng, n):
    q = rng.normal(size=(n, 4))
    q /= np.linalg.norm(q, axis=1, keepdims=True)
    w, x, y, z = q.T
    return np.stack([
        np.stack([1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)], -1),
        np.stack([2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)], -1),
        np.stack([2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)], -1)], 1)


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
    pred[0, :8, 0] = 0.100   # 8 joints at 100 mm
    pred[0, 8:, 0] = 0.200   # 8 joints at 200 mm
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
