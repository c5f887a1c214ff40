import pytest
import torch

from dhaug import precision as P
from dhaug.errors import ConfigError

CPU = torch.device("cpu")


@pytest.mark.parametrize("native, expect", [(True, "bf16"), (False, "fp32")])
def test_auto_picks_bf16_only_on_a_cpu_with_native_bf16(monkeypatch, native, expect):
    monkeypatch.setattr(P, "cpu_has_native_bf16", lambda: native)
    assert P.resolve_precision("auto", CPU) == expect
    assert P.resolve_precision("fp32", CPU) == "fp32" and P.resolve_precision("bf16", CPU) == "bf16"


def test_unknown_precision_is_a_config_error_naming_the_choices():
    with pytest.raises(ConfigError, match=r"train.precision must be one of auto, fp32, bf16, got 'fp16'"):
        P.resolve_precision("fp16", CPU)


def test_forced_bf16_on_a_cpu_without_native_bf16_gets_a_warning(monkeypatch):
    monkeypatch.setattr(P, "cpu_has_native_bf16", lambda: False)
    assert "emulates" in P.precision_note("bf16", CPU)
    assert P.precision_note("fp32", CPU) is None
    monkeypatch.setattr(P, "cpu_has_native_bf16", lambda: True)
    assert P.precision_note("bf16", CPU) is None


def test_autocast_runs_linear_layers_in_bf16_and_fp32_untouched():
    lin = torch.nn.Linear(8, 4)
    x = torch.randn(3, 8)
    with P.autocast("bf16", CPU):
        assert lin(x).dtype == torch.bfloat16
    with P.autocast("fp32", CPU):
        assert lin(x).dtype == torch.float32
    assert lin.weight.dtype == torch.float32
