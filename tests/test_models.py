import pytest
import torch

from dhaug.config import ModelConfig
from dhaug.errors import ConfigError
from dhaug.models import MODELS, SemGCN, TemporalConvNet, build_model
from dhaug.models.semgcn import skeleton_adjacency


@pytest.mark.parametrize("name", MODELS)
def test_interface_shapes_root_and_gradients(name):
    torch.manual_seed(0)
    model = build_model(ModelConfig(name=name, channels=64, stages=2, gcn_hidden=16))
    x = torch.randn(8, 16, 2)
    y = model(x)
    assert y.shape == (8, 16, 3)
    if name != "semgcn":
        assert torch.all(y[:, 0] == 0)
    y.pow(2).mean().backward()
    grads = [p.grad for p in model.parameters()]
    assert all(g is not None for g in grads) and any(g.abs().sum() > 0 for g in grads)


def test_paper_sizes():
    """Parameter counts of method.md §8 sizes (1024 channels, 4 blocks; SemGCN hidden 128)."""
    n = {name: sum(p.numel() for p in build_model(ModelConfig(name=name)).parameters()) for name in MODELS}
    assert 8.3e6 < n["videopose"] < 8.7e6 and 8.3e6 < n["mlp"] < 8.7e6
    assert 2e5 < n["semgcn"] < 3.5e5


def test_unknown_model():
    with pytest.raises(ConfigError, match="model.name = 'resnet'"):
        build_model(ModelConfig(name="resnet"))


def test_temporal_strided_and_dilated_forms_agree():
    torch.manual_seed(0)
    net = TemporalConvNet(filter_widths=(3, 3), channels=32, dropout=0.0).eval()
    assert net.receptive_field == 9
    x = torch.randn(2, 20, 16, 2)
    dense = net(x)
    assert dense.shape == (2, 12, 16, 3)
    windows = torch.stack([x[:, t : t + 9] for t in range(12)], 1).flatten(0, 1)
    strided = net(windows, strided=True).view(2, 12, 16, 3)
    torch.testing.assert_close(dense, strided, rtol=1e-5, atol=1e-5)


def test_semgcn_uses_only_graph_neighbours():
    adj = skeleton_adjacency()
    assert adj.sum() == 16 + 2 * 15 and torch.equal(adj, adj.T)
    torch.manual_seed(0)
    net = SemGCN(hidden=8, blocks=0, dropout=0.0).eval()
    x = torch.randn(1, 16, 2, requires_grad=True)
    net(x)[0, 3].sum().backward()  # RAnkle's output after 2 graph layers sees joints within 2 hops
    touched = set(torch.nonzero(x.grad[0].abs().sum(-1)).flatten().tolist())
    assert touched == {1, 2, 3}


def test_single_frame_fast_path_equals_convolution_path():
    torch.manual_seed(0)
    net = TemporalConvNet(filter_widths=(1, 1, 1), channels=32, dropout=0.0).eval()
    x = torch.randn(5, 1, 16, 2)
    fast = net(x)
    slow = net(torch.cat([x, x], 1))[:, :1]  # T=2 takes the convolution path
    torch.testing.assert_close(fast, slow, rtol=1e-5, atol=1e-6)


def test_semgcn_layer_matches_dense_formula():
    from dhaug.models.semgcn import SemGraphConv

    torch.manual_seed(0)
    layer = SemGraphConv(4, 5, skeleton_adjacency())
    x = torch.randn(3, 16, 4)
    A = layer.adjacency(x.dtype)
    I = torch.eye(16)
    ref = (A * I) @ (x @ layer.W[0]) + (A * (1 - I)) @ (x @ layer.W[1]) + layer.bias
    torch.testing.assert_close(layer(x), ref, rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(A.sum(1), torch.ones(16))


def test_stgcn_partitions_and_receptive_field():
    from dhaug.models.stgcn import STGCN, partitioned_adjacency
    from dhaug.skeleton import H36M16

    A = partitioned_adjacency(16, H36M16.bones, tuple(zip(H36M16.left, H36M16.right)))
    assert A.shape == (4, 16, 16)
    torch.testing.assert_close(A.sum(dim=(0, 1)), torch.ones(16))  # every node averages over its neighbourhood
    assert A[1, 1, 2] > 0 and A[2, 1, 2] == 0  # RHip -> RKnee: the sender is closer to the pelvis
    assert A[2, 2, 1] > 0 and A[1, 2, 1] == 0  # RKnee -> RHip: the sender is farther
    assert A[3, 2, 5] > 0 and A[3, 5, 2] > 0 and A[3, 2, 3] == 0  # knees linked symmetrically, nothing else
    assert int((A[3] > 0).sum()) == 12 and torch.equal(torch.diagonal(A[0]) > 0, torch.ones(16, dtype=torch.bool))
    torch.manual_seed(0)
    net = STGCN(channels=(8, 8, 16), part_channels=16, dropout=0.0).eval()
    x = torch.randn(4, 16, 2)
    assert net(x).shape == (4, 16, 3) and torch.all(net(x)[:, 0] == 0)
    with pytest.raises(ValueError, match=r"\(B, J, 2\)"):
        net(torch.randn(4, 16, 3))


def test_stgcn_size_is_poseaugs():
    n = sum(p.numel() for p in build_model(ModelConfig(name="stgcn")).parameters())
    assert 2.5e6 < n < 4.5e6, n


@pytest.mark.parametrize("p", [0.25, 0.1])  # an 8-bit mask (p a multiple of 1/256) and a 16-bit one
def test_relu_dropout_is_relu_then_dropout_with_its_gradient(p):
    from dhaug.models.common import Dropout

    torch.manual_seed(0)
    x = torch.randn(1000, 1000, requires_grad=True)
    y = Dropout(p, relu=True).train()(x * 1)  # in place on its input: give it a non-leaf, as a BatchNorm output
    kept = (y != 0).float()
    assert abs(kept.mean().item() - 0.5 * (1 - p)) < 0.003  # half the inputs are negative
    assert ((y == 0) | (x > 0)).all()
    torch.testing.assert_close(y[y != 0], x[y != 0] / (1 - p))
    y.sum().backward()
    torch.testing.assert_close(x.grad, kept / (1 - p))
    torch.testing.assert_close(Dropout(p, relu=True).eval()(x.detach().clone()), torch.relu(x.detach()))
