"""PoseAug pieces: BA / BL / RT keep the skeleton's tree and their limits, KCS, the feedback loss's
gradients, the fake pool, the schedule, and training with ``augment.method=poseaug`` (exact resume)."""

import json
import math

import numpy as np
import pytest
import torch

from dhaug.augment.common import bone_vectors
from dhaug.augment.poseaug import (
    BACKBONE,
    BL_GROUP,
    PARTS,
    Augmentor,
    FakePool,
    PartKCSDiscriminator,
    PoseAugmenter,
    Schedule,
    assemble,
    bone_angle_change,
    bone_length_change,
    feedback_loss,
    grouped_error,
    kcs,
    range_loss,
    rotation_from_axis_angle,
)
from dhaug.config import AugmentConfig, PoseAugConfig, load_config
from dhaug.errors import ConfigError
from dhaug.kinematics import PAPER, forward_kinematics, paper_table
from dhaug.skeleton import S1_BONE_LENGTHS, bone_lengths

from .conftest import TINY_RUN
from .test_gan import real_set

S1 = torch.tensor(S1_BONE_LENGTHS)


def poses(n=64, seed=0):
    """Root-relative FK poses with S1's bones."""
    g = torch.Generator().manual_seed(seed)
    lo, hi = paper_table("normal").for_model(PAPER)
    v = lo + (hi - lo) * torch.rand(n, len(lo), generator=g) * 0.5
    return forward_kinematics(PAPER, v[:, : PAPER.num_dofs], S1.expand(n, 15))


def directions(p):
    return torch.nn.functional.normalize(bone_vectors(p), dim=-1)


def run_augmentor(n=64, seed=0, **kw):
    torch.manual_seed(seed)
    G = Augmentor(width=32, **kw)
    x = poses(n, seed)
    cams, _, _, _ = real_set(4)
    from dhaug.augment import CameraSet

    c = CameraSet.from_cameras(cams)
    cam = torch.arange(n) % 4
    out = G(x, torch.randn(n, Augmentor.NOISES, G.noise_dim), c.K[cam], c.aspect[cam])
    return G, x, out, c, cam


def test_assemble_walks_the_kinematic_tree():
    x = poses(8)
    torch.testing.assert_close(assemble(bone_vectors(x)), x - x[:, :1], atol=1e-6, rtol=0)
    b = torch.zeros(1, 15, 3)
    b[0, 1] = torch.tensor([0.0, 0.0, 1.0])  # the right thigh moves the right knee and ankle only
    moved = (assemble(b)[0].abs().sum(-1) > 0).nonzero()[:, 0].tolist()
    assert moved == [2, 3]


def test_ba_changes_directions_only_and_keeps_the_backbone():
    _, x, out, _, _ = run_augmentor()
    ba = out["ba"]
    assert torch.isfinite(ba).all() and torch.all(ba[:, 0] == 0)
    torch.testing.assert_close(bone_lengths(ba), bone_lengths(x), atol=1e-5, rtol=0)
    u0, u1 = directions(x), directions(ba)
    torch.testing.assert_close(u1[:, list(BACKBONE)], u0[:, list(BACKBONE)], atol=1e-6, rtol=0)
    torch.testing.assert_close(out["ba_diff"], 1 - (u0 * u1).sum(-1), atol=1e-5, rtol=0)
    others = [i for i in range(15) if i not in BACKBONE]
    assert (out["ba_diff"][:, others] > 1e-4).float().mean() > 0.9  # the others do move
    # the paper's BA (no fixed backbone) moves the spine too
    _, x, out, _, _ = run_augmentor(fix_backbone=False)
    assert (out["ba_diff"][:, list(BACKBONE)] > 1e-4).all()


def test_ba_range_loss_pulls_the_mean_change_into_its_range():
    m, w = 0.205, 0.165
    assert range_loss(torch.tensor([0.1, 0.3, 0.05]), m, w) == 0
    assert range_loss(torch.tensor([0.0]), m, w) == pytest.approx(m**2)
    assert range_loss(torch.tensor([0.5, 0.2]), m, w) == pytest.approx((0.5 - m) ** 2 / 2)
    torch.manual_seed(0)
    G = Augmentor(width=32)
    x = poses(64)
    opt = torch.optim.Adam(G.ba.parameters(), lr=3e-3)

    def mean_change():
        residual = G.ba(torch.cat([x.flatten(1), torch.randn(64, G.noise_dim)], -1)).view(-1, 15, 3)
        return bone_angle_change(x, 4 * residual)[1].mean(-1)  # 4x: start with too large changes

    assert (mean_change() > m + w).float().mean() > 0.5
    for _ in range(60):
        loss = range_loss(mean_change(), m, w)
        opt.zero_grad()
        loss.backward()
        opt.step()
    inside = ((mean_change() - m).abs() <= w).float().mean()
    assert inside > 0.9


def test_bl_scales_lengths_symmetrically_within_the_tanh_limit():
    _, x, out, _, _ = run_augmentor()
    ratio = bone_lengths(out["bl"]) / bone_lengths(out["ba"]) - 1
    torch.testing.assert_close(ratio, out["blr"], atol=1e-5, rtol=0)
    torch.testing.assert_close(directions(out["bl"]), directions(out["ba"]), atol=1e-5, rtol=0)
    assert ratio.abs().max() < 0.2 + 1e-6 and ratio.abs().max() > 1e-3
    for a, b in ((0, 3), (1, 4), (2, 5), (9, 12), (10, 13), (11, 14)):  # left and right alike
        torch.testing.assert_close(ratio[:, a], ratio[:, b], atol=1e-5, rtol=0)
    assert ratio[:, 7].abs().max() < 1e-6  # spine -> thorax never changes
    assert len(set(BL_GROUP)) == 9
    for sign in (1.0, -1.0):  # saturated: the limit is reached, never passed
        bl, r = bone_length_change(x[:2], torch.full((2, 9), 100.0 * sign), 0.2)
        assert r.abs().max() <= 0.2 + 1e-7 and r.abs()[:, [0, 1, 2, 6, 14]].min() > 0.199
        torch.testing.assert_close(bone_lengths(bl) / bone_lengths(x[:2]) - 1, r, atol=1e-5, rtol=0)


def test_rt_is_rigid_and_keeps_people_in_front_of_the_camera():
    G, x, out, c, cam = run_augmentor()
    torch.testing.assert_close(bone_lengths(out["cam"]), bone_lengths(out["bl"]), atol=1e-5, rtol=0)
    torch.testing.assert_close(kcs(out["cam"]), kcs(out["bl"]), atol=1e-5, rtol=0)  # angles kept: a rotation
    R = rotation_from_axis_angle(out["rotation"])
    torch.testing.assert_close(R @ R.transpose(-1, -2), torch.eye(3).expand(len(R), 3, 3), atol=1e-5, rtol=0)
    assert torch.allclose(torch.linalg.det(R), torch.ones(len(R)), atol=1e-5)
    for bias in (100.0, -100.0, 0.0):  # extreme translation outputs
        with torch.no_grad():
            G.trans[-1].bias.fill_(bias)
            G.trans[-1].weight.mul_(100.0 if bias == 0 else 1.0)
            o = G(x, torch.randn(len(x), Augmentor.NOISES, G.noise_dim), c.K[cam], c.aspect[cam])
        depth = (o["cam"] + o["root"][:, None])[..., 2]
        assert (o["root"][:, 2] >= 2.5 - 1e-5).all() and (o["root"][:, 2] <= 8.0 + 1e-5).all()
        assert (depth > 1.0).all() and torch.isfinite(o["cam"]).all()
    torch.testing.assert_close(rotation_from_axis_angle(torch.zeros(1, 3)), torch.eye(3)[None])
    ang = rotation_from_axis_angle(torch.tensor([[0.0, 0.0, math.pi / 2]]))[0] @ torch.tensor([1.0, 0.0, 0.0])
    torch.testing.assert_close(ang, torch.tensor([0.0, 1.0, 0.0]), atol=1e-6, rtol=0)


def test_kcs_of_body_parts():
    x = poses(6)
    psi = kcs(x)
    assert psi.shape == (6, len(PARTS), 15, 15)
    torch.testing.assert_close(psi, psi.transpose(-1, -2))
    for i, bones in enumerate(PARTS.values()):
        diag = torch.zeros(15)
        diag[list(bones)] = 1
        torch.testing.assert_close(torch.diagonal(psi[:, i], dim1=-2, dim2=-1), diag.expand(6, 15), atol=1e-6, rtol=0)
    R = rotation_from_axis_angle(torch.tensor([0.3, -1.0, 2.0]))
    torch.testing.assert_close(kcs(x @ R.T), psi, atol=1e-5, rtol=0)  # rotation invariant
    torch.testing.assert_close(kcs(x * 1.7), psi, atol=1e-5, rtol=0)  # bone lengths ignored: angles only
    assert PartKCSDiscriminator(width=16)(x).shape == (6, len(PARTS))


def test_feedback_gradients_reach_the_augmentor_and_not_the_pose_net():
    from dhaug.models import SimpleBaseline

    cams, cam3d, root, ci = real_set(64)
    settings = AugmentConfig(poseaug=PoseAugConfig(width=32, d3_width=16, d2_width=16))
    aug = PoseAugmenter(cams, S1[None], settings, seed=0)
    net = SimpleBaseline(width=32, stages=1, dropout=0.2).train()
    aug.attach(net)
    x3, x2 = aug.real_pairs(cam3d, root, ci)
    K = aug.cams.K[ci]
    g = aug.G(x3, torch.randn(64, Augmentor.NOISES, 48), K, aug.cams.aspect[ci])
    from dhaug.camera import project

    ba2d = project(g["ba"] + root[:, None], K, clamp=False)
    rt2d = project(g["cam"] + g["root"][:, None], K, clamp=False)
    e0, e_ba, e_rt = aug.pose_net_errors((x2, x3), (ba2d, g["ba"]), (rt2d, g["cam"]))
    assert e0.shape == (64, 3) and (e0 > 0).all()
    loss = feedback_loss(e_ba, e0, 50.0, 1.0) + feedback_loss(e_rt, e0, 50.0, 1.0)  # far from the target: > 0
    assert loss > 0
    loss.backward()
    for head in (aug.G.ba, aug.G.bl, aug.G.rot, aug.G.trans):
        assert head[-1].weight.grad is not None and head[-1].weight.grad.abs().sum() > 0
    assert all(p.grad is None and p.requires_grad for p in net.parameters()) and net.training
    # the paper's form reaches them too; the range form is flat inside its range
    assert feedback_loss(e_ba.detach(), e0, 1.0, 0.5, "paper") >= 0
    assert feedback_loss(3 * e0, e0, 3.0, 2.0) == 0 and feedback_loss(9 * e0, e0, 3.0, 2.0) == pytest.approx(36.0)
    torch.testing.assert_close(grouped_error(x3, x3), torch.zeros(64, 3))
    with pytest.raises(RuntimeError, match="attach"):
        PoseAugmenter(cams, None, AugmentConfig(poseaug=PoseAugConfig(width=16))).pose_net_errors((x2, x3))


def test_fake_pool_fills_then_mixes_old_fakes_in():
    rng = torch.Generator().manual_seed(0)
    pool = FakePool(8)
    a = torch.arange(8.0)[:, None]
    assert torch.equal(pool(a, rng), a) and pool.count == 8
    b = 100 + torch.arange(64.0)[:, None]
    out = pool(b, rng)
    old = out < 100
    assert 0.2 < old.float().mean() < 0.8 and (pool.items >= 100).any()
    other = FakePool(8)
    other.load_state_dict(pool.state_dict())
    assert torch.equal(other.items, pool.items) and torch.equal(FakePool(0)(b, rng), b)


def test_fake_pool_slot_drawn_twice_keeps_the_later_fake_on_every_run():
    # 256 fakes into 32 slots: many slots are drawn more than once; an index_put with repeated indices
    # stores any of them (a thread race), so the pool picks the later one itself
    b = 100 + torch.arange(256 * 48.0).reshape(256, 16, 3)
    runs = []
    for _ in range(200):
        pool, rng = FakePool(32), torch.Generator().manual_seed(1)
        pool(torch.zeros(32, 16, 3), rng)
        state = rng.get_state()
        pool(b, rng)
        runs.append(pool.items.clone())
    rng = torch.Generator().set_state(state)  # the same draws, stored one by one in order
    swap, slot = torch.rand(256, generator=rng) < 0.5, torch.randint(32, (256,), generator=rng)
    expect = torch.zeros(32, 16, 3)
    for i in torch.nonzero(swap)[:, 0]:
        expect[slot[i]] = b[i]
    assert all(torch.equal(r, expect) for r in runs)


def test_schedule_phases_inside_the_pose_net_budget():
    class T:
        epochs, tail_epochs = 6, 0

    s = Schedule.from_config(AugmentConfig(), T)  # auto: half pre-training, 2 warm-up epochs overlapping
    assert (s.pretrain, s.pose_start, s.gan_start, s.gan_epochs) == (3, 0, 1, 5)
    assert [s.phase(e) for e in range(6)] == ["pretrain", "warmup", "warmup", "joint", "joint", "joint"]
    assert s.fraction(5) == 1 and s.fraction(1) == pytest.approx(0.2)
    assert s.decayed(1, 1e-4) == 1e-4 and s.decayed(5, 1e-4) == pytest.approx(1e-4 * (1 - 4 / 6))
    assert s.pose_lr(0, 1e-3, 0.0) == 1e-3 and s.pose_lr(3, 1e-3, 0.0) == 1e-3  # the harness's schedule
    assert s.pose_lr(0, 1e-3, 1e-4) == 1e-3 and s.pose_lr(3, 1e-3, 1e-4) == pytest.approx(1e-4 * (1 - 2 / 6))
    s = Schedule(2, 0, 2)  # no pre-training: the warm-up comes first, as GAN-only epochs
    assert (s.pose_start, s.gan_start, [s.phase(e) for e in range(4)]) == (2, 0, ["warmup", "warmup", "joint", "joint"])


@pytest.mark.parametrize(
    "over, match",
    [
        (["model.frames=9"], "single frames"),
        (["augment.poseaug.pretrain_epochs=2"], "poseaug.pretrain_epochs"),
        (["augment.poseaug.feedback=hard"], "poseaug.feedback must"),
    ],
)
def test_bad_poseaug_settings_are_refused(over, match):
    with pytest.raises(ConfigError, match=match):
        load_config(
            None, ["augment.method=poseaug", "model.name=videopose", "train.epochs=2", "train.tail_epochs=0", *over]
        )


def tiny(out, *extra):
    return [
        f"out_dir={out}",
        *TINY_RUN,
        "augment.poseaug.pretrain_epochs=1",
        "augment.poseaug.warmup=1",
        "augment.poseaug.width=16",
        "augment.poseaug.d3_width=16",
        "augment.poseaug.d2_width=16",
        "augment.poseaug.pool_size=64",
        "augment.monitor_every=0",
        *extra,
    ]


def test_poseaug_training_end_to_end_and_exact_resume(tmp_path, monkeypatch, capsys):
    from dhaug import checkpoint
    from dhaug.cli import main
    from dhaug.data import load_experiment_data
    from dhaug.train import train

    straight = tmp_path / "straight"
    assert main(["train", "--augment", "poseaug", "--no-progress", *tiny(straight, "augment.monitor_every=2")]) == 0
    res = json.loads((straight / "results.json").read_text())
    hist = res["history"]
    epochs = [line for line in capsys.readouterr().out.splitlines() if line.startswith("epoch ")]
    assert "real pairs only" in epochs[0] and "nan" not in epochs[0]  # pre-training: no synthetic report
    assert f"mixed into the real batches ({hist[1]['fake_pairs']} pairs)" in epochs[1]
    assert len(hist) == 2 and hist[0]["fake_pairs"] == 0 and hist[1]["fake_pairs"] > 100  # pre-training, joint
    assert "gan/hard_ba" not in hist[0] and np.isfinite(hist[1]["gan/hard_ba"]) and np.isfinite(hist[1]["train_loss"])
    batch = load_config(None, tiny(straight)).train.batch_size  # joint epoch: its pairs mixed into the real pass
    assert hist[1]["real_steps"] == (res["train_pairs"] + hist[1]["fake_pairs"]) // batch > hist[0]["real_steps"]
    assert all(np.isfinite(v) for h in hist for k, v in h.items() if k.startswith("gan/"))
    assert all(np.isfinite(r["frame_mean"]["mpjpe"]) for r in res["results"].values())
    assert [f.name for f in (straight / "poseaug").iterdir()] == ["poses_epoch002.png"]
    # the pose net's first epoch (real data only, GAN warm-up beside it) is exactly that of a 'none' run
    data = load_experiment_data(load_config(None, tiny(tmp_path)).data)  # shared by the runs below
    train(load_config(None, tiny(tmp_path / "none", "train.epochs=1")), data=data, progress=False)
    none = json.loads((tmp_path / "none" / "results.json").read_text())["history"]
    assert none[0]["train_loss"] == hist[0]["train_loss"]

    killed = tmp_path / "killed"
    real_save = checkpoint.save_atomic

    def save_then_die(obj, path):
        real_save(obj, path)
        if obj["epoch"] == 1:
            raise KeyboardInterrupt

    monkeypatch.setattr(checkpoint, "save_atomic", save_then_die)
    with pytest.raises(KeyboardInterrupt):
        train(load_config(None, tiny(killed, "augment.method=poseaug")), data=data, progress=False)
    monkeypatch.setattr(checkpoint, "save_atomic", real_save)
    torch.manual_seed(321)
    train(load_config(None, tiny(killed, "augment.method=poseaug")), resume=True, data=data, progress=False)
    a, b = checkpoint.load(straight / "checkpoint.pt"), checkpoint.load(killed / "checkpoint.pt")
    assert b["epoch"] == 2
    for h, k in zip(a["history"], b["history"]):
        assert {x: v for x, v in h.items() if x != "seconds" and not x.endswith("seconds")} == {
            x: v for x, v in k.items() if x != "seconds" and not x.endswith("seconds")
        }
    for part in ("model",):
        for k in a[part]:
            torch.testing.assert_close(a[part][k], b[part][k], rtol=0, atol=0)
    for net in ("G", "D3", "D2"):
        for k in a["augmenter"][net]:
            torch.testing.assert_close(a["augmenter"][net][k], b["augmenter"][net][k], rtol=0, atol=0)
    pools = a["augmenter"]["pools"]["D3"], b["augmenter"]["pools"]["D3"]
    assert pools[0]["count"] == pools[1]["count"] > 0
    torch.testing.assert_close(pools[0]["items"], pools[1]["items"], rtol=0, atol=0)


def test_follow_lr_separate_passes_and_train_mode_feedback(tmp_path):
    """``poseaug.lr_policy: follow`` scales the augmentor's LR as the pose net's; with separate passes the
    augmented pairs get a pass of their own; ``poseaug.feedback_mode: train`` runs the pose net as released."""
    from dhaug.schedule import learning_rate
    from dhaug.train import train

    out = tmp_path / "follow"
    cfg = load_config(
        None,
        tiny(
            out,
            "augment.method=poseaug",
            "train.epochs=3",
            "augment.poseaug.lr_policy=follow",
            "train.synthetic_batches=separate",
            "augment.poseaug.feedback_mode=train",
        ),
    )
    train(cfg, progress=False)
    hist = json.loads((out / "results.json").read_text())["history"]
    lrs = [learning_rate(e, cfg.train) for e in range(3)]
    assert [h["lr"] for h in hist] == lrs  # the pose net keeps the harness's schedule
    for h, lr in zip(hist, lrs):  # GAN from epoch 0 (1 pre-training epoch overlapped by the 1 warm-up epoch)
        assert h["gan/lr"] == pytest.approx(cfg.augment.poseaug.lr * lr / lrs[0])
    assert "fake_loss" not in hist[0] and all(np.isfinite(h["fake_loss"]) and h["fake_pairs"] > 100 for h in hist[1:])

    cams, cam3d, root, ci = real_set(64)
    from dhaug.models import SimpleBaseline

    for mode, changes in (("eval", False), ("train", True)):
        aug = PoseAugmenter(cams, None, AugmentConfig(poseaug=PoseAugConfig(width=16, feedback_mode=mode)), seed=0)
        net = SimpleBaseline(width=32, stages=1, dropout=0.2).train()
        aug.attach(net)
        before = {k: v.clone() for k, v in net.state_dict().items() if "running_mean" in k}
        x3, x2 = aug.real_pairs(cam3d, root, ci)
        aug.pose_net_errors((x2, x3))
        moved = any(not torch.equal(before[k], net.state_dict()[k]) for k in before)
        assert moved == changes and net.training
    with pytest.raises(ConfigError, match="poseaug.lr_policy"):
        load_config(None, tiny(out, "augment.method=poseaug", "augment.poseaug.lr_policy=cosine"))


def test_bf16_poseaug_pass_returns_float32_pairs_close_to_fp32():
    from dhaug.models import SimpleBaseline

    cams, cam3d, root, ci = real_set(128)
    out = {}
    for prec in ("fp32", "bf16"):
        torch.manual_seed(0)
        net = SimpleBaseline(width=32, stages=1, dropout=0.0)
        settings = AugmentConfig(
            poseaug=PoseAugConfig(width=32, d3_width=16, d2_width=16, batch_size=64, precision=prec)
        )
        aug = PoseAugmenter(cams, S1[None], settings, seed=0)
        aug.attach(net)
        out[prec] = aug.fit_epoch(cam3d, root, ci, feedback=True, progress=False)
        assert aug.precision == prec
    a, b = out["fp32"], out["bf16"]
    assert b["pose2d"].dtype == b["pose3d"].dtype == torch.float32
    assert all(math.isfinite(v) for v in b["logs"].values())
    # same seeds and draws: the first pairs differ by the bf16 rounding of the networks only (not bitwise)
    n = min(len(a["pose3d"]), len(b["pose3d"]), 64)
    diff = (a["pose3d"][:n] - b["pose3d"][:n]).norm(dim=-1).mean()
    assert 0 < diff < 0.05, diff  # measured 10 mm
