"""Progress display: bars on a terminal only; a redirected log holds short plain lines, no ``\\r``."""

import io

from tqdm.std import tqdm as std_tqdm

from dhaug.cli import build_parser, main
from dhaug.config import load_config
from dhaug.progress import PlainProgress, progress_bar
from dhaug.train import train

from .conftest import TINY_RUN


class FakeTTY(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_redirected_training_log_has_no_bars_and_short_lines(tmp_path, capfd):
    cfg = load_config(
        None,
        [
            f"out_dir={tmp_path}",
            *TINY_RUN,
            "train.epochs=1",
            "augment.method=dhaug",
            "augment.gan.warmup=0",
            "augment.gan.gen_width=16",
            "augment.gan.d3_width=16",
            "augment.gan.d2_width=16",
            "augment.monitor_every=0",
        ],
    )
    capfd.readouterr()
    train(cfg)  # progress on (the default, as `dhaug demo` has it); stdout and stderr are not terminals
    out, err = capfd.readouterr()
    log = out + err
    assert "\r" not in log, [line for line in log.split("\n") if "\r" in line][:1]
    assert max(map(len, log.split("\n"))) < 300
    assert "epoch 1/2  GAN warm-up" in out and "epoch 2/2  lr" in out  # the one line per epoch is still there


def test_a_terminal_gets_a_bar_and_anything_else_plain_lines():
    tty = FakeTTY()
    bar = progress_bar(range(3), desc="pass", stream=tty)
    assert isinstance(bar, std_tqdm) and list(bar) == [0, 1, 2] and "\r" in tty.getvalue()
    assert isinstance(progress_bar(range(3), stream=tty, enabled=False), PlainProgress)  # --no-progress
    log = io.StringIO()
    assert isinstance(progress_bar(range(3), stream=log), PlainProgress)


def test_plain_progress_prints_quarters_of_long_passes_only():
    log = io.StringIO()
    assert list(progress_bar(range(8), desc="epoch 3 real", unit="batch", stream=log, quiet_s=0)) == list(range(8))
    lines = log.getvalue().splitlines()
    assert [line.split(" (")[0] for line in lines] == [f"epoch 3 real: {p}%" for p in (25, 50, 75, 100)]
    assert lines[1].startswith("epoch 3 real: 50% (4/8 batch) ")
    quiet = io.StringIO()
    bar = progress_bar(total=10, desc="h36m archive", unit="file", stream=quiet)  # a short pass: silent
    for _ in range(10):
        bar.update(1)
    bar.close()
    off = io.StringIO()
    list(progress_bar(range(8), stream=off, enabled=False, quiet_s=0))
    assert quiet.getvalue() == "" and off.getvalue() == ""


def test_demo_and_train_take_no_progress(monkeypatch):
    seen = {}
    monkeypatch.setattr("dhaug.demo.run_demo", lambda **kw: seen.update(kw))
    assert main(["demo", "--no-progress", "--epochs", "1"]) == 0 and seen["progress"] is False
    assert main(["demo", "--epochs", "1"]) == 0 and seen["progress"] is True
    assert build_parser().parse_args(["train", "--no-progress"]).no_progress
