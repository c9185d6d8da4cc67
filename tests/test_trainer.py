"""The trainer's correctness: detaching, k steps, hooks, EMA, history, NaN, checkpoints, resume, signals."""
import ast
import inspect
import random
import re
import shutil
import signal
from pathlib import Path

import numpy as np

import pytest
import torch
from torch import nn

import gancourse.models as models
from gancourse.checkpoint import global_rng_state, load_checkpoint, save_checkpoint, set_global_rng_state
from gancourse.checks import CheckpointError, GanCourseError, TrainingDiverged
from gancourse.models import MLPDiscriminator, MLPGenerator, ToyDiscriminator, ToyGenerator
from gancourse.recipes import RECIPES
from gancourse.sampling import generate
from gancourse.toys import gaussian_mixture_1d
from gancourse.trainer import GANTrainer, StopSignals, TrainingInterrupted, clip_weights

MIX = gaussian_mixture_1d((4.0,), 0.5)


def toy_trainer(**kw):
    torch.manual_seed(0)
    return GANTrainer(ToyGenerator(shift=4.0), ToyDiscriminator(shift=4.0), lambda n, g: MIX.sample(n, g),
                      batch_size=32, device="cpu", progress=False, log_every=10, **kw)


def small_mnist_trainer(**kw):
    torch.manual_seed(0)
    data = torch.rand(64, 1, 28, 28) * 2 - 1
    return GANTrainer(MLPGenerator(), MLPDiscriminator(), data, batch_size=16, device="cpu",
                      progress=False, log_every=5, **kw)


def test_discriminator_step_leaves_no_gradient_on_the_generator():
    seen = []

    def record(d):
        seen.append([None if p.grad is None else p.grad.clone() for p in tr.G.parameters()])

    tr = toy_trainer(d_steps=3, after_d_step=[record])
    tr.fit(2)
    assert all(g is None for g in seen[0])  # no G backward has happened yet: D's backward touched nothing
    after_first_g_step = seen[3]
    for later in seen[4:]:  # the D steps of step 2 leave G's gradients exactly as step 1 left them
        assert all(torch.equal(a, b) for a, b in zip(after_first_g_step, later))


def test_k_discriminator_steps_per_generator_step():
    calls = []
    tr = toy_trainer(d_steps=5, after_d_step=[lambda d: calls.append(1)])
    tr.fit(4)
    assert len(calls) == 20 and tr.step == 4
    assert tr.d_opt.state[next(iter(tr.D.parameters()))]["step"] == 20
    assert tr.g_opt.state[next(iter(tr.G.parameters()))]["step"] == 4


def test_generator_step_does_not_update_the_discriminator():
    tr = toy_trainer()
    tr.fit(1)
    before = [p.clone() for p in tr.D.parameters()]
    tr.d_opt.step = lambda *a, **k: None  # freeze D's optimiser: only the G step could now change D
    tr.fit(2)
    assert all(torch.equal(a, b) for a, b in zip(before, tr.D.parameters()))
    assert all(p.requires_grad for p in tr.D.parameters())


def test_clip_hook_bounds_the_critic():
    tr = toy_trainer(after_d_step=[clip_weights(0.01)], d_loss=lambda r, f: f.mean() - r.mean(), g_loss=lambda f: -f.mean())
    tr.fit(3)
    assert max(float(p.abs().max()) for p in tr.D.parameters()) <= 0.01


def test_penalty_is_added_and_recorded():
    tr = toy_trainer(penalty=lambda d, real, fake: 0.0 * d(real).mean() + 1.5)
    tr.fit(10)
    assert tr.history["penalty"] == [1.5] * 10


def test_history_has_one_entry_per_step_and_timings(monkeypatch):
    import gancourse.trainer as trainer_module

    ticks = iter(range(0, 1000, 2))  # a fake clock: 2 s later at every reading, whatever the machine's speed
    monkeypatch.setattr(trainer_module.time, "perf_counter", lambda: float(next(ticks)))
    tr = toy_trainer()
    tr.fit(25)
    assert tr.history["step"] == list(range(1, 26))
    assert len(tr.history["d_loss"]) == len(tr.history["g_loss"]) == 25
    assert tr.history["wall_step"] == [10, 20, 25]
    times = tr.history["wall_time"]
    assert times == sorted(times) and times[0] > 0
    assert tr.steps_per_second() == 25 / times[-1]


def test_ema_follows_the_generator():
    tr = small_mnist_trainer(ema_decay=0.999)
    assert tr.ema_decay_at(0) == pytest.approx(0.1) and tr.ema_decay_at(10**6) == 0.999
    tr.fit(3)
    start = [p.clone() for p in tr.ema.parameters()]
    tr.fit(4)  # step 4 is taken with decay (1 + 3) / (10 + 3)
    beta = 4 / 13
    for e, s, p in zip(tr.ema.parameters(), start, tr.G.parameters()):
        torch.testing.assert_close(e, beta * s + (1 - beta) * p)
    assert not any(p.requires_grad for p in tr.ema.parameters())


def test_the_ema_samples_with_its_own_batch_norm_statistics_and_training_is_untouched():
    tr = small_mnist_trainer(ema_decay=0.999)
    tr.fit(6)
    g_buffers = [b.clone() for b in tr.G.buffers()]
    rng, global_torch = tr.rng.get_state(), torch.get_rng_state()
    ema = tr.sampling_generator  # statistics recomputed from the EMA's own samples
    # they are what the EMA's own activations give: the first batch norm sees Linear(256 -> 512) of its 256 features
    first = next(m for m in ema.modules() if isinstance(m, nn.BatchNorm1d))
    z = torch.randn(16 * 256, ema.latent_dim, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        h = ema.net[:3](z)  # (N, 512), the input of the first batch norm
    torch.testing.assert_close(first.running_mean, h.mean(0), atol=2e-3, rtol=0)
    assert not torch.allclose(first.running_mean, next(m for m in tr.G.modules() if isinstance(m, nn.BatchNorm1d)).running_mean)
    # nothing of the training run moved: G's statistics, the trainer's and torch's random streams
    assert all(torch.equal(a, b) for a, b in zip(g_buffers, tr.G.buffers()))
    assert torch.equal(rng, tr.rng.get_state()) and torch.equal(global_torch, torch.get_rng_state())
    assert tr.sampling_generator is ema and tr._ema_stats_step == 6  # computed once per step
    tr.fit(7)
    assert tr._ema_stats_step == 6 and tr.sampling_generator is ema and tr._ema_stats_step == 7


def test_the_ema_statistics_do_not_change_a_resumed_run(tmp_path):
    straight = small_mnist_trainer(ema_decay=0.99)
    straight.fit(4)
    straight.sample(8)  # recomputes the EMA's statistics half-way
    straight.fit(8)
    first = small_mnist_trainer(ema_decay=0.99, out_dir=tmp_path)
    first.fit(4)
    second = small_mnist_trainer(ema_decay=0.99, out_dir=tmp_path).resume()
    second.fit(8)
    for a, b in zip(straight.G.state_dict().values(), second.G.state_dict().values()):
        assert torch.equal(a, b)
    torch.testing.assert_close(straight.sample(16, seed=1), second.sample(16, seed=1), rtol=0, atol=0)


def test_sampling_is_in_eval_mode_without_autograd():
    class Probe(nn.Module):
        latent_dim = 2

        def __init__(self):
            super().__init__()
            self.lin = nn.Linear(2, 2)
            self.seen = []

        def forward(self, z):
            self.seen.append((self.training, torch.is_grad_enabled()))
            return self.lin(z)

    g = Probe().train()
    out = generate(g, 5, seed=0)
    assert g.seen == [(False, False)] and not out.requires_grad
    assert g.training  # the mode is restored afterwards
    assert torch.equal(generate(g, 5, seed=0), out)  # a seed repeats


def test_no_batch_norm_with_a_positional_eps():
    """BatchNorm1d(n, 0.8) sets eps=0.8 (a common tutorial bug): check built modules and the source."""
    for name, recipe in RECIPES.items():
        for net in recipe.models("cpu"):
            for m in net.modules():
                if isinstance(m, nn.modules.batchnorm._BatchNorm):
                    assert m.eps <= 1e-3, f"{name}: {m} has eps={m.eps}"
    pkg = Path(inspect.getfile(models)).parent.parent
    for path in pkg.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call):
                name = getattr(node.func, "attr", getattr(node.func, "id", ""))
                if re.fullmatch(r"BatchNorm[123]d", name):
                    assert len(node.args) <= 1, f"{path}:{node.lineno}: name eps/momentum, don't pass them by position"


def test_nan_stops_with_the_step_and_keeps_the_last_good_checkpoint(tmp_path):
    tr = toy_trainer(out_dir=tmp_path, checkpoint_every=10)
    tr.fit(10)
    good = (tmp_path / "checkpoint.pt").read_bytes()
    tr.d_loss = lambda r, f: torch.where(torch.tensor(tr.step >= 13), torch.tensor(float("nan")), f.mean() - r.mean())
    with pytest.raises(TrainingDiverged, match=r"d_loss became nan at generator step 14.*intact"):
        tr.fit(30)
    assert (tmp_path / "checkpoint.pt").read_bytes() == good
    assert not (tmp_path / "checkpoint.pt.tmp").exists()


def test_resume_gives_the_same_generator_as_a_straight_run(tmp_path):
    straight = small_mnist_trainer(ema_decay=0.9)
    straight.fit(12)
    first = small_mnist_trainer(ema_decay=0.9, out_dir=tmp_path)
    first.fit(6)
    resumed = small_mnist_trainer(ema_decay=0.9, out_dir=tmp_path).resume()
    assert resumed.step == 6
    resumed.fit(12)
    for a, b in zip(straight.G.state_dict().values(), resumed.G.state_dict().values()):
        assert torch.equal(a, b)
    for a, b in zip(straight.ema.state_dict().values(), resumed.ema.state_dict().values()):
        assert torch.equal(a, b)
    assert straight.history["g_loss"] == resumed.history["g_loss"]


def test_fit_refuses_to_go_backwards():
    tr = toy_trainer()
    tr.fit(5)
    with pytest.raises(GanCourseError, match="already at step 5"):
        tr.fit(3)


def test_bad_configuration():
    with pytest.raises(GanCourseError, match="latent_dim"):
        GANTrainer(nn.Linear(2, 2), ToyDiscriminator(), torch.zeros(4, 1), progress=False)
    with pytest.raises(GanCourseError, match="non-empty"):
        GANTrainer(ToyGenerator(), ToyDiscriminator(), torch.zeros(0, 1), progress=False)
    with pytest.raises(GanCourseError, match="positive"):
        GANTrainer(ToyGenerator(), ToyDiscriminator(), torch.zeros(4, 1), d_steps=0, progress=False)


def test_checkpoint_errors(tmp_path):
    with pytest.raises(CheckpointError, match="no checkpoint"):
        load_checkpoint(tmp_path / "missing.pt")
    path = save_checkpoint(tmp_path / "c.pt", {"step": 1})
    (tmp_path / "trunc.pt").write_bytes(path.read_bytes()[:100])
    with pytest.raises(CheckpointError, match="truncated or corrupt"):
        load_checkpoint(tmp_path / "trunc.pt")
    torch.save({"weights": torch.zeros(2)}, tmp_path / "foreign.pt")
    with pytest.raises(CheckpointError, match="not a gancourse checkpoint"):
        load_checkpoint(tmp_path / "foreign.pt")
    tr = toy_trainer()
    with pytest.raises(CheckpointError, match="does not fit"):
        tr.load_state_dict(load_checkpoint(path))


@pytest.fixture
def sigterm_fails_the_test():
    """A SIGTERM that gancourse leaves unhandled fails the test instead of killing pytest."""
    previous = signal.signal(signal.SIGTERM, lambda *_: pytest.fail("SIGTERM reached the test: nothing handled it"))
    yield
    signal.signal(signal.SIGTERM, previous)


def raise_signal_at(step, *signals):
    """An after_d_step hook that sends ``signals`` to this process in the middle of step ``step + 1``."""
    def hook(d):
        if hook.trainer.step == step:
            for sig in signals:
                signal.raise_signal(sig)

    return hook


def assert_same_generator(a, b):
    for net_a, net_b in ((a.G, b.G), (a.ema, b.ema)):
        for (name, x), y in zip(net_a.state_dict().items(), net_b.state_dict().values()):
            assert torch.equal(x, y), name


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_a_signal_stops_fit_after_the_step_saves_it_and_the_run_goes_on_exactly(tmp_path, sig, sigterm_fails_the_test):
    straight = small_mnist_trainer(ema_decay=0.9)
    straight.fit(12)
    hook = raise_signal_at(7, sig)
    tr = small_mnist_trainer(ema_decay=0.9, out_dir=tmp_path, checkpoint_every=50, after_d_step=[hook])
    hook.trainer = tr
    handlers = signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)
    with pytest.raises(TrainingInterrupted) as stop:
        tr.fit(12)
    assert isinstance(stop.value, KeyboardInterrupt)  # a notebook's loop over fit stops too
    assert (stop.value.signum, stop.value.step, stop.value.checkpoint) == (sig, 8, tmp_path / "checkpoint.pt")
    assert "at step 8" in str(stop.value)
    assert (signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)) == handlers
    state = load_checkpoint(tmp_path / "checkpoint.pt")
    assert state["step"] == 8 and state["history"]["step"] == list(range(1, 9))  # the losses were read (and checked)
    # D's dropout draws from torch's global random stream, which each trainer needs to itself: first the interrupted
    # trainer goes on in memory, as in a notebook, then a new one resumes from a copy of the step-8 checkpoint
    (tmp_path / "at8").mkdir()
    shutil.copy(tmp_path / "checkpoint.pt", tmp_path / "at8" / "checkpoint.pt")
    tr.fit(12)
    resumed = small_mnist_trainer(ema_decay=0.9, out_dir=tmp_path / "at8").resume()
    assert resumed.step == 8
    resumed.fit(12)
    for other in (resumed, tr):
        assert_same_generator(straight, other)
        assert other.history["g_loss"] == straight.history["g_loss"]


def test_without_an_out_dir_an_interrupted_trainer_keeps_its_state_in_memory():
    hook = raise_signal_at(2, signal.SIGINT)
    tr = toy_trainer(after_d_step=[hook])
    hook.trainer = tr
    with pytest.raises(TrainingInterrupted, match="at step 3.*call fit again") as stop:
        tr.fit(10)
    assert stop.value.checkpoint is None and tr.step == 3
    tr.fit(10)
    straight = toy_trainer()
    straight.fit(10)
    assert straight.history["d_loss"] == tr.history["d_loss"]


def test_a_second_signal_stops_at_once_and_keeps_the_last_checkpoint(tmp_path):
    hook = raise_signal_at(12, signal.SIGINT, signal.SIGINT)
    tr = toy_trainer(out_dir=tmp_path, checkpoint_every=10, after_d_step=[hook])
    hook.trainer = tr
    handler = signal.getsignal(signal.SIGINT)
    with pytest.raises(KeyboardInterrupt) as stop:
        tr.fit(30)
    assert not isinstance(stop.value, TrainingInterrupted)
    assert load_checkpoint(tmp_path / "checkpoint.pt")["step"] == 10
    assert signal.getsignal(signal.SIGINT) is handler


def test_a_signal_just_before_fit_inside_a_wider_stop_signals_is_not_lost(tmp_path, sigterm_fails_the_test):
    """The CLI enters StopSignals before its 'training' line: a signal then, before fit starts, still ends in a save."""
    tr = toy_trainer(out_dir=tmp_path)
    handler = signal.getsignal(signal.SIGTERM)
    with pytest.raises(TrainingInterrupted, match="SIGTERM at step 0") as stop:
        with StopSignals():
            signal.raise_signal(signal.SIGTERM)
            tr.fit(10)  # shares the outer StopSignals, so it sees the request and takes no step
    assert stop.value.checkpoint == tmp_path / "checkpoint.pt" and load_checkpoint(stop.value.checkpoint)["step"] == 0
    assert signal.getsignal(signal.SIGTERM) is handler and StopSignals.active is None
    straight = toy_trainer()
    straight.fit(10)
    resumed = toy_trainer(out_dir=tmp_path).resume()
    resumed.fit(10)
    assert resumed.history["d_loss"] == straight.history["d_loss"]


def test_global_random_states_survive_a_checkpoint(tmp_path):
    random.seed(1), np.random.seed(1), torch.manual_seed(1)
    np.random.standard_normal()  # leaves a cached Gaussian in NumPy's state
    save_checkpoint(tmp_path / "c.pt", {"global_rng": global_rng_state()})
    expected = random.random(), np.random.standard_normal(3).tolist(), torch.rand(3)
    set_global_rng_state(load_checkpoint(tmp_path / "c.pt")["global_rng"])  # weights_only loading accepts it
    assert (random.random(), np.random.standard_normal(3).tolist()) == expected[:2]
    assert torch.equal(torch.rand(3), expected[2])


def test_a_failed_checkpoint_write_keeps_the_previous_one(tmp_path, monkeypatch):
    path = save_checkpoint(tmp_path / "c.pt", {"step": 1})
    before = path.read_bytes()

    def half_written(obj, f):
        f.write(b"partial")
        raise OSError("No space left on device")

    monkeypatch.setattr(torch, "save", half_written)
    with pytest.raises(OSError):
        save_checkpoint(path, {"step": 2})
    assert path.read_bytes() == before and not (tmp_path / "c.pt.tmp").exists()


def test_augment_sees_every_batch_d_sees_and_g_learns_through_it():
    """DiffAugment's rule: real and fake augmented alike, in D's steps and in G's, with G's gradient through it."""
    seen = []

    def spy(x, generator=None):
        seen.append((x.requires_grad, generator))
        return -x  # an augmentation the discriminator cannot undo on its own

    tr = small_mnist_trainer(augment=spy, d_steps=2)
    tr.train_step()
    assert len(seen) == 2 * 2 + 1  # real and fake in each of the 2 D steps, the fake in the G step
    assert [g is tr.rng for _, g in seen] == [True] * 5  # its draws come from the trainer's generator
    assert [r for r, _ in seen] == [False] * 4 + [True]  # only the G step's fakes carry G's graph
    plain, flipped = small_mnist_trainer(), small_mnist_trainer(augment=lambda x, generator=None: -x)
    plain.train_step(), flipped.train_step()
    assert not torch.equal(plain.D.net[1].weight, flipped.D.net[1].weight)  # D trained on what augment returned


def test_augmented_training_resumes_exactly(tmp_path):
    from gancourse.augment import diff_augment

    straight = small_mnist_trainer(augment=diff_augment)
    straight.fit(8)
    first = small_mnist_trainer(augment=diff_augment, out_dir=tmp_path)
    first.fit(4)
    resumed = small_mnist_trainer(augment=diff_augment, out_dir=tmp_path).resume()
    resumed.fit(8)
    for a, b in zip(straight.G.state_dict().values(), resumed.G.state_dict().values()):
        assert torch.equal(a, b)
    assert straight.history["d_loss"] == resumed.history["d_loss"]
    unaugmented = small_mnist_trainer()
    unaugmented.fit(8)
    assert straight.history["d_loss"] != unaugmented.history["d_loss"]


def test_augment_must_be_a_function():
    with pytest.raises(GanCourseError, match="augment must be a function"):
        small_mnist_trainer(augment="translation")
    from gancourse.progressive import ProGANTrainer

    with pytest.raises(GanCourseError, match="does not augment"):  # checked before anything else is built
        ProGANTrainer(None, None, None, None, augment=lambda x, generator=None: x)
