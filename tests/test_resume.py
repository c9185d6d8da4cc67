"""An interrupted `gancourse train` can always be continued, and ends as an uninterrupted run would.

SIGINT and SIGTERM save the step reached; a SIGKILL at any moment leaves the last complete checkpoint;
--resume continues from it (from step 0 when there is none yet). Every run is compared with a straight
one of the same seed, bit for bit. The verdicts never depend on timing: a signal sent in-process lands in
a known step, a process is signalled only once it has said 'training', and the kills' assertions hold
wherever their (seeded, random) moments land.
"""
import os
import random
import re
import shlex
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
import torch

import gancourse.recipes as recipes
from gancourse.checkpoint import load_checkpoint
from gancourse.cli import main
from test_trainer import sigterm_fails_the_test  # noqa: F401  (a fixture)

STEPS = {"mlp": 60, "progan": 20}  # smoke progan grows through every level in its first 14 steps


@pytest.fixture(scope="module")
def digits(tmp_path_factory):
    """A small MNIST cache of random digits: each process loads it in milliseconds (the offline subset takes seconds)."""
    folder = tmp_path_factory.mktemp("mnist")
    rng = np.random.default_rng(0)
    arrays = {f"x_{s}": rng.integers(0, 256, (n, 28, 28), dtype=np.uint8) for s, n in (("train", 256), ("test", 32))}
    np.savez(folder / "mnist.npz", **arrays, y_train=rng.integers(0, 10, 256), y_test=rng.integers(0, 10, 32))
    env = {"GANCOURSE_DATA": str(folder), "GANCOURSE_DEVICE": "cpu",
           "OMP_NUM_THREADS": str(torch.get_num_threads())}  # as here: bit-exact needs the same thread count
    with pytest.MonkeyPatch.context() as mp:
        for key, value in env.items():
            mp.setenv(key, value)
        yield env


def train(model, out, *extra):
    return main(["train", model, "--profile", "smoke", "--steps", str(STEPS[model]), "--out", str(out), "--quiet", *extra])


@pytest.fixture(scope="module")
def straight(digits, tmp_path_factory):
    """Uninterrupted runs of each model, the reference for every interrupted one."""
    runs = tmp_path_factory.mktemp("straight")
    for model in STEPS:
        assert train(model, runs / model) == 0
    return lambda model: load_checkpoint(runs / model / "checkpoint.pt")


def assert_same_run(folder, reference):
    state = load_checkpoint(folder / "checkpoint.pt")
    assert state["step"] == reference["step"]
    for net in ("generator", "ema"):
        assert state[net].keys() == reference[net].keys()
        for name, tensor in reference[net].items():
            assert torch.equal(state[net][name], tensor), f"{net}.{name}"
    assert state["history"]["g_loss"] == reference["history"]["g_loss"]


def the_command(err):
    """The one line an interrupted or refused command ends with, and the `gancourse train` command it suggests."""
    lines = err.strip().splitlines()
    match = re.search(r"`(gancourse train [^`]+)`", lines[-1])
    assert match, err
    return lines[-1], shlex.split(match.group(1))[1:]  # without "gancourse": main's argv


def signal_at(monkeypatch, steps, sig=signal.SIGINT):
    """Make `gancourse train` send itself ``sig`` mid-step (after D's update, before G's) when it is at one of ``steps``."""
    build = recipes.build_trainer

    def build_with_a_signal(*args, **kw):
        trainer = build(*args, **kw)
        trainer.after_d_step.append(lambda d: trainer.step in steps and signal.raise_signal(sig))
        return trainer

    monkeypatch.setattr(recipes, "build_trainer", build_with_a_signal)


def test_sigint_before_and_after_the_first_checkpoint_saves_the_step_and_the_printed_command_continues_exactly(
        straight, tmp_path, monkeypatch, capsys):
    out = tmp_path / "run k"  # a space: the suggested command must quote it
    signal_at(monkeypatch, {7, 53})  # the first regular checkpoint is at step 50
    argv = ["train", "mlp", "--profile", "smoke", "--steps", "60", "--out", str(out), "--quiet"]
    for stop in (8, 54):
        assert main(argv) == 130
        line, argv = the_command(capsys.readouterr().err)
        assert line.startswith(f"interrupted (SIGINT) at step {stop}, saved to ")
        assert argv == ["train", "mlp", "--profile", "smoke", "--steps", "60", "--out", str(out), "--resume"]
        assert load_checkpoint(out / "checkpoint.pt")["step"] == stop
    assert main(argv) == 0
    assert_same_run(out, straight("mlp"))


def test_progan_interrupted_mid_fade_comes_back_at_its_level_and_alpha(
        straight, tmp_path, monkeypatch, capsys, sigterm_fails_the_test):
    out = tmp_path / "progan"
    with monkeypatch.context() as m:
        signal_at(m, {3}, signal.SIGTERM)  # step 4 is the second step of the 8x8 fade-in: level 1, alpha 0.5
        assert train("progan", out) == 143
    line, argv = the_command(capsys.readouterr().err)
    assert line.startswith("interrupted (SIGTERM) at step 4, saved to ")
    trainer = recipes.build_trainer("progan", "smoke", out_dir=out, progress=False).resume()
    assert trainer.step == 4 and trainer.schedule.at(3) == (1, 0.5)
    for net in (trainer.G, trainer.D, trainer.ema):
        assert net._state() == (1, 0.5) and (int(net.level), float(net.alpha)) == (1, 0.5)
    assert main(argv) == 0
    assert_same_run(out, straight("progan"))


def test_resume_without_a_checkpoint_starts_from_step_0_with_the_saved_settings(digits, tmp_path, capsys):
    out = tmp_path / "early"  # what a kill in the first tenth of a run leaves: run.json, no checkpoint
    out.mkdir()
    (out / "run.json").write_text('{"model": "mlp", "profile": "smoke", "seed": 3, "steps": 4}')
    assert main(["train", "mlp", "--out", str(out), "--resume", "--quiet"]) == 0
    said = [line for line in capsys.readouterr().out.splitlines() if "no checkpoint" in line]
    assert len(said) == 1 and "from step 0" in said[0] and "seed 3" in said[0] and "'smoke'" in said[0]
    reference = recipes.build_trainer("mlp", "smoke", seed=3, progress=False)
    reference.fit(4)
    state = load_checkpoint(out / "checkpoint.pt")
    assert state["step"] == 4 and state["meta"]["seed"] == 3
    assert all(torch.equal(state["generator"][k], v) for k, v in reference.G.state_dict().items())


def test_every_suggested_command_works(digits, tmp_path, capsys):
    out = tmp_path / "run"
    cases = [  # (what a user types, what the refusal or answer says, the step the suggestion gets the run to)
        (["train", "mlp", "--profile", "smoke", "--steps", "4", "--out", str(out), "--resume"], "nothing to resume", 4),
        (["train", "mlp", "--profile", "smoke", "--steps", "4", "--out", str(out)], "already holds a run", 4),
        (["train", "mlp", "--out", str(out), "--resume"], "nothing to do", 8),  # suggests a larger --steps
        (["train", "dcgan", "--out", str(out), "--resume"], "model 'mlp', not 'dcgan'", 8),
        (["train", "mlp", "--out", str(out), "--resume", "--seed", "5"], "seed 0, not 5", 8),
    ]
    for argv, message, step in cases:
        code = main(argv + ["--quiet"])
        captured = capsys.readouterr()
        line, suggested = the_command(captured.err if code else captured.out)
        assert message in line and code in (0, 2), line
        assert main(suggested + ["--quiet"]) == 0, capsys.readouterr().err
        capsys.readouterr()
        assert load_checkpoint(out / "checkpoint.pt")["step"] == step


# ------------------------------------------------------------ real processes, real signals

def start(argv, env):
    """`gancourse train ...` in its own process; returns it once it has said 'training' (None if it ended first)."""
    proc = subprocess.Popen([sys.executable, "-m", "gancourse", *argv], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env={**os.environ, **env})
    for line in proc.stdout:
        if line.startswith("training "):  # printed after run.json is written, with the trainer built
            return proc
    proc.wait()
    assert proc.returncode == 0, proc.stderr.read()
    return None


def finish(proc, sig=None):
    if sig is not None:
        proc.send_signal(sig)
    out, err = proc.communicate()
    return proc.returncode, err


ALL_WAYS = ["SIGTERM", "SIGKILL at a random moment", "SIGKILL mid-checkpoint"]


@pytest.mark.parametrize("model, every, seed, interruptions", [
    ("mlp", 10, 0, ALL_WAYS),  # checkpoints of 30 MB: a kill mid-write is likely
    ("progan", 3, 1, ALL_WAYS[:2]),  # growing: checkpoints every 3 steps through every level and fade-in
], ids=["mlp", "progan"])
def test_terminated_then_killed_at_any_moment_the_resumed_run_ends_as_a_straight_one(
        straight, digits, tmp_path, model, every, seed, interruptions):
    """One run, interrupted in each of these ways with a --resume after each, then resumed to its end.

    Each process costs seconds to start (importing torch), so there are few; the last --resume runs in this process.
    """
    out, rng = tmp_path / model, random.Random(seed)
    argv = ["train", model, "--profile", "smoke", "--steps", str(STEPS[model]), "--checkpoint-every", str(every),
            "--out", str(out), "--quiet"]
    saved = [0]
    for attempt, how in enumerate(interruptions):
        proc = start(argv + (["--resume"] if attempt else []), digits)
        if proc is None:  # an earlier interruption came after the end: the run is complete
            break
        if how == "SIGTERM":  # sent once the process says 'training': it ends in a saved step
            code, err = finish(proc, signal.SIGTERM)
            saved.append(load_checkpoint(out / "checkpoint.pt")["step"])
            if saved[-1] == STEPS[model] and "saved to" not in err:  # it came after training ended (a stalled test)
                break
            assert code == 143, err
            line, suggested = the_command(err)
            assert line.startswith(f"interrupted (SIGTERM) at step {saved[-1]}, saved to ")
            assert suggested == argv[:6] + ["--out", str(out), "--resume"]
            continue
        if how == "SIGKILL at a random moment":
            time.sleep(rng.uniform(0.0, 1.0))  # the smoke runs train for about a second
        else:  # kill while a checkpoint is being written (or just after)
            while proc.poll() is None and not (out / "checkpoint.pt.tmp").exists():
                time.sleep(0.001)
        proc.kill()
        finish(proc)
        saved.append(load_checkpoint(out / "checkpoint.pt")["step"])  # always loadable, never a half-written file
    assert saved == sorted(saved)  # a kill never loses what was saved
    assert main(argv + ["--resume"]) == 0
    assert_same_run(out, straight(model))
    assert not (out / "checkpoint.pt.tmp").exists()
