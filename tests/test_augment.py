"""Random DH augmentation: seeded, valid pairs in the training format, group bone scaling, training hook."""

import numpy as np
import pytest
import torch

from dhaug.augment import BONE_GROUPS, RandomDHAugmenter, project_to_cameras, scale_bones
from dhaug.camera import load_cameras, normalize_screen, project, world_to_camera
from dhaug.config import load_config
from dhaug.kinematics import CLAVICLE, PAPER, paper_table
from dhaug.skeleton import S1_BONE_LENGTHS, bone_lengths

S1_BONES = torch.tensor([S1_BONE_LENGTHS])


def make(model=PAPER, seed=0, n=500, limits="normal"):
    cams = load_cameras()["S1"]
    roots = torch.tensor([[0.0, 0.0, 0.95], [0.5, -0.3, 0.9]])
    return RandomDHAugmenter(model, S1_BONES, roots, cams, limits=paper_table(limits), num_poses=n, seed=seed)


def test_seeded_and_epoch_dependent():
    a, b = make(seed=3), make(seed=3)
    x0, y0 = a.sample(0)
    x0b, y0b = b.sample(0)
    assert torch.equal(x0, x0b) and torch.equal(y0, y0b)
    x1, _ = a.sample(1)
    assert x1.shape != x0.shape or not torch.equal(x1, x0)


@pytest.mark.parametrize("model", [PAPER, CLAVICLE])
def test_pairs_are_valid_training_pairs(model):
    aug = make(model)
    x, y = aug.sample(0)
    assert x.shape[1:] == (16, 2) and y.shape[1:] == (16, 3) and len(x) == len(y) > 0
    assert torch.all(y[:, 0] == 0)  # root-relative
    assert x[..., 0].abs().max() <= 1 and x[..., 1].abs().max() <= 1.002
    lengths = bone_lengths(y)
    assert torch.all(lengths >= S1_BONES * 0.8 - 1e-5) and torch.all(lengths <= S1_BONES * 1.2 + 1e-5)


def test_projection_matches_the_camera_module():
    aug = make()
    g = torch.Generator().manual_seed(0)
    world = aug.sample_world(50, g)
    uv, rel, ok = project_to_cameras(world, aug.cams)
    cam = load_cameras()["S1"][2]
    Xc = world_to_camera(world.double(), torch.as_tensor(cam.R), torch.as_tensor(cam.T))
    px = project(Xc, torch.as_tensor(cam.intrinsics()), clamp=False)
    ref = normalize_screen(px, cam.res_w, cam.res_h)
    torch.testing.assert_close(uv[:, 2].double(), ref, rtol=0, atol=1e-4)
    torch.testing.assert_close(rel[:, 2].double(), Xc - Xc[:, :1], rtol=0, atol=1e-5)


def test_rejects_poses_behind_the_camera_or_off_screen():
    cams = load_cameras()["S1"][:1]
    # roots at the camera centre (behind/at depth 0) and far off to the side: everything rejected
    roots = torch.tensor(np.stack([cams[0].T, cams[0].T + np.array([0.0, 0.0, 30.0])]), dtype=torch.float32)
    aug = RandomDHAugmenter(PAPER, S1_BONES, roots, cams, num_poses=200)
    x, _ = aug.sample(0)
    assert len(x) == 0


def test_rest_pose_first_and_subset_sizes():
    aug = make(n=2000)
    g = torch.Generator().manual_seed(1)
    dofs, rot = aug.sample_parameters(2000, g)
    assert torch.all(dofs[0] == 0) and torch.all(rot[0] == 0)
    active = ((dofs != 0).sum(1) + (rot != 0).sum(1)).float()
    assert active.min() == 0 and active.max() >= PAPER.num_dofs  # subset size covers 0..all
    lo, hi = aug.lo, aug.hi
    both = torch.cat([dofs, rot], 1)
    assert torch.all(both >= lo - 1e-6) and torch.all(both <= hi + 1e-6)


def test_group_scaling_keeps_left_right_equal_and_thorax_fixed():
    bones = S1_BONES.repeat(1000, 1)
    out = scale_bones(bones, 0.2, torch.Generator().manual_seed(0))
    r = out / bones
    for idx in BONE_GROUPS.values():
        assert torch.allclose(r[:, idx[0]], r[:, idx[-1]])
    assert torch.all(r[:, 7] == 1)
    assert r.min() >= 0.8 and r.max() < 1.2


def test_training_with_random_augmentation(tmp_path):
    from dhaug.train import train

    cfg = load_config(
        None,
        [
            f"out_dir={tmp_path}",
            "data.dataset=synthetic",
            "data.train_subjects=[S1]",
            "data.downsample=10",
            "data.test_downsample=10",
            "model.name=mlp",
            "model.channels=64",
            "model.stages=1",
            "train.epochs=1",
            "train.tail_epochs=0",
            "augment.method=random",
            "augment.num_poses=300",
            "train.synthetic_batches=separate",
        ],
    )
    res = train(cfg, progress=False)
    import json

    results = json.loads((tmp_path / "results.json").read_text())
    hist = results["history"]
    assert hist[0]["fake_pairs"] > 0 and np.isfinite(hist[0]["fake_loss"])  # a synthetic pass of their own
    assert results["synthetic_batches"] == "separate"
    assert set(res) == {"synthetic", "synthetic_other"}


def test_mixed_synthetic_batches_put_real_and_synthetic_pairs_into_one_pass(tmp_path):
    import json

    from dhaug.errors import ConfigError
    from dhaug.train import train

    base = [
        f"out_dir={tmp_path}",
        "data.dataset=synthetic",
        "data.train_subjects=[S1]",
        "data.downsample=10",
        "data.test_downsample=10",
        "model.name=mlp",
        "model.channels=64",
        "model.stages=1",
        "train.epochs=1",
        "train.tail_epochs=0",
        "augment.method=random",
        "augment.num_poses=300",
        "train.batch_size=64",
    ]
    for mode in ("mixed", "auto"):  # auto: mixed for a single-frame model (the default)
        train(
            load_config(None, base + [f"train.synthetic_batches={mode}", f"out_dir={tmp_path / mode}"]), progress=False
        )
        results = json.loads((tmp_path / mode / "results.json").read_text())
        h, n_real = results["history"][0], results["train_pairs"]
        assert h["fake_pairs"] > 0 and "fake_loss" not in h  # no separate synthetic pass
        assert h["real_steps"] == (n_real + h["fake_pairs"]) // 64  # one pass over both (short last batch skipped)
        assert results["synthetic_batches"] == "mixed"
    assert load_config(None, base).train.synthetic_batches == "auto"
    assert not load_config(None, base + ["model.name=videopose", "model.frames=9"]).train.mixed_batches(9)
    with pytest.raises(ConfigError, match="synthetic_batches"):
        load_config(None, base + ["train.synthetic_batches=both"])
    with pytest.raises(ConfigError, match="single-frame"):
        load_config(None, base + ["train.synthetic_batches=mixed", "model.name=videopose", "model.frames=9"])


def test_random_sequences_are_smooth_windows_within_the_limits():
    from dhaug.augment.dhaug.video import joint_acceleration

    cams = load_cameras()["S1"]
    T = 9
    walk = torch.tensor([0.0, 0.0, 0.95]) + torch.linspace(-0.4, 0.4, T)[:, None] * torch.tensor([1.0, 0.0, 0.0])
    roots = walk[None].repeat(2, 1, 1)  # (K, T, 3) real pelvis trajectories
    lim = paper_table("normal")
    seqs = {}
    for K in (3, T):
        aug = RandomDHAugmenter(
            PAPER, S1_BONES, roots, cams, limits=lim, num_poses=300, seed=0, frames=T, temporal_basis=K, motion_deg=20.0
        )
        g = torch.Generator().manual_seed(0)
        dofs, rot = aug.sample_parameters(300, g)
        d, r = aug.trajectories(dofs, rot, g)
        lo, hi = lim.for_model(PAPER)
        v = torch.cat([d, r], -1)
        assert d.shape == (300, T, PAPER.num_dofs) and torch.all(v >= lo - 1e-6) and torch.all(v <= hi + 1e-6)
        rest = torch.zeros(len(lo)).clamp(lo, hi)
        inactive = torch.cat([dofs, rot], -1) == rest
        assert torch.all(v[inactive[:, None].expand_as(v)] == rest.expand_as(v)[inactive[:, None].expand_as(v)])
        assert (v.std(1) > 0.01).any()  # active DOFs move
        x, y = aug.sample(0)
        assert x.shape[1:] == (T, 16, 2) and y.shape[1:] == (16, 3) and len(x) == len(y) > 0
        assert x[..., 0].abs().max() <= 1 and torch.all(y[:, 0] == 0)
        seqs[K] = joint_acceleration(aug.sample_world(300, torch.Generator().manual_seed(1))).mean()
    assert seqs[3] < 0.5 * seqs[T]  # fewer cosines: smoother motion
    with pytest.raises(ValueError, match=r"roots must have shape \(K, 9, 3\)"):
        RandomDHAugmenter(PAPER, S1_BONES, roots[:, 0], cams, frames=T)


def test_active_subset_size_is_drawn_from_0_to_33_as_the_release():
    aug = make(n=10)
    assert aug.max_active == 33 and len(aug.lo) == 31  # paper model: 28 DOFs + 3 rotations
    rest = torch.zeros(31).clamp(aug.lo, aug.hi)
    share = {}
    for m in (31, 33):
        aug.max_active = m
        dofs, rot = aug.sample_parameters(20000, torch.Generator().manual_seed(0))
        active = (torch.cat([dofs, rot], -1) != rest).sum(-1)  # draws clipped onto a rest-valued bound count as rest
        share[m] = float((active == active.max()).float().mean())
    assert share[33] > 2 * share[31]  # sizes 31, 32, 33 all mean "every DOF": 3 in 34 instead of 1 in 32
