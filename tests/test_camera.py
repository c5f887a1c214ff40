import numpy as np
import pytest
import torch

from dhaug.camera import (
    camera_to_world,
    load_cameras,
    normalize_screen,
    normalize_screen_np,
    project,
    project_np,
    unnormalize_screen,
    world_to_camera,
    world_to_camera_np,
)
from dhaug.errors import DataError

from .conftest import shared_file


def reference_project(Xc, f, c, k, p):
    """Independent loop version of the README's distortion formula, one point at a time."""
    out = np.zeros(Xc.shape[:-1] + (2,))
    for idx in np.ndindex(Xc.shape[:-1]):
        X, Y, Z = Xc[idx]
        x, y = min(max(X / Z, -1), 1), min(max(Y / Z, -1), 1)
        r2 = x * x + y * y
        radial = 1 + k[0] * r2 + k[1] * r2**2 + k[2] * r2**3
        tan = p[0] * y + p[1] * x
        xd = x * (radial + tan) + p[1] * r2
        yd = y * (radial + tan) + p[0] * r2
        out[idx] = (f[0] * xd + c[0], f[1] * yd + c[1])
    return out


def random_points(rng, n=50):
    pts = rng.normal(size=(n, 16, 3)) * 0.5
    pts[..., 2] += 5.0
    return pts


def test_builtin_cameras_are_the_official_values():
    cams = load_cameras()
    assert sorted(cams) == ["S1", "S11", "S5", "S6", "S7", "S8", "S9"]
    c = cams["S1"][0]
    assert c.id == "54138969" and (c.res_w, c.res_h) == (1000, 1002)
    np.testing.assert_allclose(c.f, [1145.04940458804, 1143.78109572365])
    np.testing.assert_allclose(c.T, [1.84110702774543, 4.95528462344526, 1.5634453958977])
    for subject in cams.values():
        for cam in subject:
            np.testing.assert_allclose(cam.R @ cam.R.T, np.eye(3), atol=1e-9)


def test_builtin_cameras_match_shared_file():
    shared = load_cameras(shared_file("h36m", "cameras.json"))
    builtin = load_cameras()
    for s in shared:
        for a, b in zip(shared[s], builtin[s]):
            np.testing.assert_array_equal(a.intrinsics(), b.intrinsics())
            np.testing.assert_array_equal(a.R, b.R)


def test_projection_matches_reference_formula():
    rng = np.random.default_rng(0)
    for cam in load_cameras()["S9"]:
        Xc = random_points(rng)
        ours = project_np(Xc, cam.intrinsics())
        ref = reference_project(Xc, cam.f, cam.c, cam.k, cam.p)
        np.testing.assert_allclose(ours, ref, atol=1e-9)


def test_world_camera_round_trip_and_batching():
    rng = np.random.default_rng(1)
    cams = load_cameras()["S5"]
    R = torch.as_tensor(np.stack([c.R for c in cams]))
    T = torch.as_tensor(np.stack([c.T for c in cams]))
    X = torch.as_tensor(rng.normal(size=(4, 7, 16, 3)))
    Xc = world_to_camera(X, R[:, None], T[:, None])  # (4, 7, 16, 3)
    for i, c in enumerate(cams):
        np.testing.assert_allclose(Xc[i].numpy(), (X[i].numpy() - c.T) @ c.R.T, atol=1e-12)
    np.testing.assert_allclose(camera_to_world(Xc, R[:, None], T[:, None]).numpy(), X.numpy(), atol=1e-12)


def test_normalised_intrinsics_equal_normalising_pixels():
    rng = np.random.default_rng(2)
    cam = load_cameras()["S1"][0]
    Xc = random_points(rng)
    px = project_np(Xc, cam.intrinsics())
    via_norm = project_np(Xc, cam.normalized_intrinsics())
    np.testing.assert_allclose(via_norm, normalize_screen_np(px, cam.res_w, cam.res_h), atol=1e-12)


def test_screen_normalisation_definition_and_inverse():
    X = torch.tensor([[0.0, 0.0], [1000.0, 1002.0], [500.0, 501.0]], dtype=torch.float64)
    n = normalize_screen(X, 1000, 1002)
    np.testing.assert_allclose(n.numpy(), [[-1, -1.002], [1, 1.002], [0, 0]], atol=1e-12)
    np.testing.assert_allclose(unnormalize_screen(n, 1000, 1002).numpy(), X.numpy(), atol=1e-9)
    # per-sample sizes broadcast over joints
    w = torch.tensor([1000.0, 2000.0], dtype=torch.float64)
    h = torch.tensor([1000.0, 1000.0], dtype=torch.float64)
    Y = torch.full((2, 16, 2), 500.0, dtype=torch.float64)
    out = normalize_screen(Y, w[:, None], h[:, None])
    np.testing.assert_allclose(out[0, 0].numpy(), [0, 0])
    np.testing.assert_allclose(out[1, 0].numpy(), [-0.5, 0.5 - 0.5])


def test_projection_is_differentiable():
    cam = load_cameras()["S1"][1]
    X = torch.tensor(random_points(np.random.default_rng(3), 2), requires_grad=True)
    K = torch.as_tensor(cam.normalized_intrinsics())
    assert torch.autograd.gradcheck(lambda x: project(x, K), (X,))


def test_numpy_wrappers_keep_float32():
    cam = load_cameras()["S1"][0]
    X = random_points(np.random.default_rng(4)).astype(np.float32)
    assert world_to_camera_np(X, cam.R, cam.T).dtype == np.float32
    assert project_np(X, cam.intrinsics()).dtype == np.float32


def test_bad_camera_file(tmp_path):
    p = tmp_path / "cams.json"
    p.write_text(
        '{"S1": [{"id": "1", "R": [[1,0,0],[0,1,0]], "T": [0,0,0], "f": [1,1], "c": [0,0], '
        '"k": [0,0,0], "p": [0,0], "res_w": 10, "res_h": 10}]}'
    )
    with pytest.raises(ValueError, match=r"cams.json: S1\[0\]: key 'R' has shape \(2, 3\)"):
        load_cameras(p)
    with pytest.raises(FileNotFoundError, match="nope.json"):
        load_cameras(tmp_path / "nope.json")
    assert DataError  # imported for symmetry with the data tests


def test_zoom_helpers():
    from dhaug.camera import focal_from_fov, random_focals, with_focal

    K = torch.tensor([[2.29, 2.28, 0.01, -0.02, 0.1, 0.0, 0.0, 0.0, 0.0]])
    Z = with_focal(K, torch.tensor([1.0]))
    assert Z[0, 0] == 1.0 and abs(float(Z[0, 1]) - 2.28 / 2.29) < 1e-6 and torch.equal(Z[0, 2:], K[0, 2:])
    # a zoom scales the undistorted image about the principal point
    X = torch.tensor([[[0.3, -0.2, 4.0]]])
    K0 = K.clone()
    K0[0, 4] = 0
    a, b = project(X, K0[0], clamp=False), project(X, with_focal(K0, torch.tensor([1.0]))[0], clamp=False)
    torch.testing.assert_close((b - K0[0, 2:4]) / (a - K0[0, 2:4]), torch.tensor([[[1 / 2.29, 2.28 / 2.29 / 2.28]]]))
    assert abs(float(focal_from_fov(torch.tensor(90.0))) - 1.0) < 1e-6
    f = random_focals(1000, (30.0, 100.0), torch.Generator().manual_seed(0))
    assert (
        f.min() >= focal_from_fov(torch.tensor(100.0)) - 1e-6 and f.max() <= focal_from_fov(torch.tensor(30.0)) + 1e-6
    )
    with pytest.raises(ValueError, match="field-of-view"):
        random_focals(3, (100.0, 30.0))
