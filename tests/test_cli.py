"""The command line: train, resume, refuse, sample, and one-line errors."""
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from gancourse.cli import main


def train(out, *extra):
    return main(["train", "mlp", "--profile", "smoke", "--out", str(out), "--quiet", *extra])


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    out = tmp_path_factory.mktemp("runs") / "mlp"
    assert train(out, "--steps", "20") == 0
    return out


def test_train_writes_a_run(trained):
    run = json.loads((trained / "run.json").read_text())
    assert run == {"model": "mlp", "profile": "smoke", "seed": 0, "steps": 20}
    assert (trained / "checkpoint.pt").exists() and (trained / "samples.png").exists()


def test_resume_equals_a_straight_run(tmp_path):
    assert train(tmp_path / "a", "--steps", "30") == 0
    assert train(tmp_path / "b", "--steps", "15") == 0
    assert train(tmp_path / "b", "--steps", "30", "--resume") == 0
    a = torch.load(tmp_path / "a" / "checkpoint.pt", weights_only=True)
    b = torch.load(tmp_path / "b" / "checkpoint.pt", weights_only=True)
    assert a["step"] == b["step"] == 30
    for key in ("generator", "ema"):
        assert all(torch.equal(a[key][k], b[key][k]) for k in a[key])


def test_training_into_an_existing_run_is_refused(trained, capsys):
    before = (trained / "checkpoint.pt").read_bytes()
    assert train(trained, "--steps", "5") == 2
    err = capsys.readouterr().err
    assert err.startswith("gancourse: error:") and "--resume" in err and len(err.strip().splitlines()) == 1
    assert (trained / "checkpoint.pt").read_bytes() == before


def test_resume_needs_a_run(tmp_path, capsys):
    assert train(tmp_path / "new", "--resume") == 2
    assert "nothing to resume" in capsys.readouterr().err


def test_sample_writes_images_in_range(trained, tmp_path):
    out = tmp_path / "s.npz"
    assert main(["sample", str(trained), "--n", "37", "--out", str(out), "--seed", "3"]) == 0
    with np.load(out) as f:
        images = f["images"]
        assert set(f.files) == {"images"}
    assert images.shape == (37, 1, 28, 28) and images.dtype == np.float32
    assert images.min() >= -1 and images.max() <= 1
    assert main(["sample", str(trained), "--n", "37", "--out", str(tmp_path / "t.npz"), "--seed", "3"]) == 0
    with np.load(tmp_path / "t.npz") as f:
        assert np.array_equal(f["images"], images)  # a seed repeats


def test_sample_refuses_to_overwrite(trained, tmp_path, capsys):
    out = tmp_path / "s.npz"
    out.write_bytes(b"precious")
    assert main(["sample", str(trained), "--n", "2", "--out", str(out)]) == 2
    assert "--force" in capsys.readouterr().err and out.read_bytes() == b"precious"
    assert main(["sample", str(trained), "--n", "2", "--out", str(out), "--force"]) == 0


@pytest.mark.parametrize(
    "argv, message",
    [
        (["train", "gan9000", "--out", "x"], "unknown model 'gan9000'; choose one of: mlp"),
        (["train", "mlp", "--profile", "fast", "--out", "x"], "unknown profile 'fast'"),
        (["train", "mlp", "--steps", "0", "--out", "x"], "--steps must be a positive number"),
        (["train", "mlp", "--checkpoint-every", "0", "--out", "x"], "--checkpoint-every must be a positive number"),
        (["sample", "no/such/dir", "--out", "x.npz"], "does not exist"),
        (["sample", ".", "--out", "x.txt"], ".npz"),
        (["train", "dcgan", "--per-class", "0", "--out", "x"], "per_class must be a whole number from 1 to"),
        (["train", "progan", "--per-class", "45", "--data", ".", "--out", "x"], "per_class picks MNIST digits"),
    ],
)
def test_bad_arguments_get_one_line(argv, message, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1


def test_corrupt_or_foreign_checkpoint(trained, tmp_path, capsys):
    for name, content in [("truncated", (trained / "checkpoint.pt").read_bytes()[:2000]), ("foreign", None)]:
        run = tmp_path / name
        run.mkdir()
        (run / "run.json").write_text((trained / "run.json").read_text())
        if content is None:
            torch.save({"state": torch.zeros(3)}, run / "checkpoint.pt")
        else:
            (run / "checkpoint.pt").write_bytes(content)
        before = (run / "checkpoint.pt").read_bytes()
        assert main(["sample", str(run), "--n", "2", "--out", str(tmp_path / f"{name}.npz")]) == 2
        assert train(run, "--steps", "40", "--resume") == 2
        err = capsys.readouterr().err
        assert "checkpoint" in err and "Traceback" not in err
        assert (run / "checkpoint.pt").read_bytes() == before


def test_console_entry_points():
    script = str(Path(sys.executable).parent / "gancourse")
    for exe in ([script], [sys.executable, "-m", "gancourse"]):
        r = subprocess.run(exe + ["train", "nope", "--out", "x"], capture_output=True, text=True)
        assert r.returncode == 2, r.stderr
        assert r.stderr.startswith("gancourse: error: unknown model 'nope'; choose one of: mlp")
        assert len(r.stderr.strip().splitlines()) == 1


def test_a_run_on_the_small_set_keeps_its_digits_through_a_resume(tmp_path, capsys):
    out = tmp_path / "small"
    argv = ["train", "dcgan", "--profile", "smoke", "--out", str(out), "--quiet", "--per-class", "45"]
    assert main(argv + ["--steps", "4"]) == 0
    assert json.loads((out / "run.json").read_text())["per_class"] == 45
    assert "450 digits" in capsys.readouterr().out
    assert main(argv[:-2] + ["--steps", "8", "--resume"]) == 0           # no --per-class: the run's own
    assert "450 digits" in capsys.readouterr().out
    assert main(argv[:-1] + ["10", "--steps", "12", "--resume"]) == 2    # another subset is refused
    err = capsys.readouterr().err
    assert "45 digits per class, not 10" in err and len(err.strip().splitlines()) == 1
    assert torch.load(out / "checkpoint.pt", weights_only=False)["step"] == 8
