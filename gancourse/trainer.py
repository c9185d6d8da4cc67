"""One trainer for every chapter: alternating GAN updates, configured, not rewritten.

Per generator step the trainer makes ``d_steps`` discriminator (or critic)
updates, each on a fresh real batch and a fresh *detached* fake batch, then one
generator update. Losses, a penalty (WGAN-GP), hooks after each discriminator
step (weight clipping) and an EMA of the generator are plugged in.

Speed: the whole dataset lives on the device and batches are drawn there with
the trainer's own ``torch.Generator``; losses go into a device buffer that is
read back once every ``log_every`` steps, so there is no host sync per step.

Safety: a NaN/inf loss stops training with the step it happened at; checkpoints
are only written after the losses since the last one were checked, so the last
good checkpoint stays intact. SIGINT (Ctrl-C, a notebook's interrupt) and SIGTERM
stop :meth:`GANTrainer.fit` after the step under way, save that step and raise
:class:`TrainingInterrupted`; a second signal stops at once. A checkpoint holds
every random state, so a resumed run repeats an uninterrupted one bit for bit.
"""
from __future__ import annotations

import copy
import signal
import threading
import time
from pathlib import Path
from typing import Any, Callable, Sequence

import torch
from torch import nn

from . import progress
from .checkpoint import global_rng_state, load_checkpoint, save_checkpoint, set_global_rng_state
from .checks import CheckpointError, GanCourseError, TrainingDiverged
from .device import get_device
from .losses import discriminator_loss, generator_loss
from .sampling import generate, standing_stats

LossFn = Callable[..., torch.Tensor]
Hook = Callable[[nn.Module], None]
Sampler = Callable[[int, torch.Generator], torch.Tensor]


def clip_weights(limit: float = 0.01) -> Hook:
    """A hook that clamps every parameter of the critic to [−limit, limit] (WGAN)."""

    @torch.no_grad()
    def clip(critic: nn.Module) -> None:
        for p in critic.parameters():
            p.clamp_(-limit, limit)

    clip.limit = limit  # type: ignore[attr-defined]
    return clip


def linear_decay(total_steps: int) -> Callable[["GANTrainer"], None]:
    """A trainer callback (``trainer.callbacks.append(...)``, run every ``log_every`` steps): every learning rate
    of both optimisers falls linearly from its initial value to 0 at ``total_steps`` (chapters 5 and 8's toys)."""
    if isinstance(total_steps, bool) or not isinstance(total_steps, int) or total_steps < 1:
        raise GanCourseError(f"linear_decay: total_steps must be a positive integer, got {total_steps!r}")

    def callback(trainer: "GANTrainer") -> None:
        for opt in (trainer.g_opt, trainer.d_opt):
            for group in opt.param_groups:
                group.setdefault("initial_lr", group["lr"])
                group["lr"] = group["initial_lr"] * max(0.0, 1.0 - trainer.step / total_steps)

    return callback


class TrainingInterrupted(KeyboardInterrupt):
    """SIGINT or SIGTERM stopped training after a whole step (a KeyboardInterrupt, so a cell's loop stops too).

    Attributes:
        signum: the signal.
        step: the generator steps done when training stopped (None: stopped outside ``fit``).
        checkpoint: the file that holds that step, or None (no ``out_dir``: the trainer keeps it in memory).
    """

    def __init__(self, signum: int, step: int | None = None, checkpoint: Path | None = None):
        self.signum, self.step, self.checkpoint = signum, step, checkpoint
        name = signal.Signals(signum).name
        if step is None:
            text = f"{name}: stopped"
        elif checkpoint is not None:
            text = f"{name} at step {step}: training stopped after that step and saved it to {checkpoint}"
        else:
            text = f"{name} at step {step}: training stopped after that step; call fit again to continue"
        super().__init__(text)


class StopSignals:
    """While active, SIGINT and SIGTERM only ask training to stop (``signum``); a second signal stops at once.

    :meth:`GANTrainer.fit` uses one. A caller can cover a wider span (the CLI does, from its "training" line
    on) and ``fit`` then shares it, so a signal that comes just before ``fit`` starts is not lost. Handlers
    can only be set in the main thread; elsewhere, and for a signal that is ignored (SIG_IGN, as for a
    background job), nothing changes.
    """

    SIGNALS = (signal.SIGINT, signal.SIGTERM)
    active: "StopSignals | None" = None  # the outermost one in the main thread

    def __enter__(self) -> "StopSignals":
        self._previous: dict[int, Any] = {}
        self._outer = StopSignals.active
        if self._outer is not None:
            return self._outer
        self.signum: int | None = None
        if threading.current_thread() is threading.main_thread():
            for sig in self.SIGNALS:
                if signal.getsignal(sig) is not signal.SIG_IGN:
                    self._previous[sig] = signal.signal(sig, self._request)
            StopSignals.active = self
        return self

    def _request(self, signum: int, frame: Any) -> None:
        if self.signum is not None:
            raise KeyboardInterrupt  # asked twice: stop now, mid-step (the last checkpoint stays as it was)
        self.signum = signum

    def __exit__(self, *exc: Any) -> None:
        if self._outer is not None:
            return
        for sig, handler in self._previous.items():
            signal.signal(sig, handler if handler is not None else signal.SIG_DFL)
        if StopSignals.active is self:
            StopSignals.active = None


def adam(module: nn.Module, lr: float = 2e-4, betas: tuple[float, float] = (0.5, 0.999)) -> torch.optim.Optimizer:
    """Adam with the DCGAN paper's settings by default."""
    return torch.optim.Adam(module.parameters(), lr=lr, betas=betas)


class GANTrainer:
    """Alternating GAN training with checkpoints, resume, EMA and a history.

    Args:
        generator: maps z (N, latent_dim) [and labels (N,)] to samples; has ``latent_dim``.
        discriminator: maps samples [and labels] to logits or scores of shape (N,).
        data: real samples, a tensor (N, ...) (images in [-1, 1]) moved once to the device,
            or a sampler ``f(n, torch_generator) -> (n, ...)`` for generated toy data.
        labels: (N,) class labels for a conditional GAN (then ``generator.num_classes`` is used).
        batch_size: samples per batch, real and fake alike.
        d_steps: discriminator/critic updates per generator update (k in Goodfellow et al.).
        d_loss: ``f(real_out, fake_out) -> scalar``; default the GAN discriminator loss.
        g_loss: ``f(fake_out) -> scalar``; default the non-saturating generator loss.
        penalty: ``f(discriminator, real, fake, *labels) -> scalar`` added to the d loss, already
            weighted (WGAN-GP passes ``10 * gradient_penalty``, R1 ``losses.r1_regulariser(γ)``).
        penalty_every: k > 1 makes the penalty lazy (StyleGAN2): computed only in the steps where
            ``step % k == 0`` and multiplied by k there, so on average it weighs what it did; the
            history records 0 in the other steps. The step counter is checkpointed: resumes stay exact.
        after_d_step: hooks called with the discriminator after each of its updates (clipping).
        augment: ``f(images, generator=torch.Generator) -> images``, applied to every batch D sees, real
            and fake, in D's steps and in G's, so G's gradient flows through it (DiffAugment, e.g.
            ``gancourse.augment.diff_augment``); its draws come from the trainer's generator, so a
            resumed run repeats them. The penalty sees the batches unaugmented.
        g_optimizer, d_optimizer: default Adam(2e-4, betas=(0.5, 0.999)).
        ema_decay: keep an exponential moving average of the generator's weights, used for sampling
            (with a warm-up, see :meth:`ema_decay_at`).
        out_dir: where ``checkpoint.pt`` goes; None keeps everything in memory.
        checkpoint_every: steps between checkpoints (always one at the end of ``fit``, and one when a
            signal stops it).
        log_every: steps between reads of the loss buffer (the only host syncs).
        meta: anything JSON-like to keep in checkpoints (the CLI stores model and profile).
    """

    def __init__(
        self,
        generator: nn.Module,
        discriminator: nn.Module,
        data: torch.Tensor | Sampler,
        *,
        labels: torch.Tensor | None = None,
        batch_size: int = 64,
        d_steps: int = 1,
        d_loss: LossFn = discriminator_loss,
        g_loss: LossFn = generator_loss,
        penalty: Callable[..., torch.Tensor] | None = None,
        penalty_every: int = 1,
        after_d_step: Sequence[Hook] = (),
        augment: Callable[..., torch.Tensor] | None = None,
        g_optimizer: torch.optim.Optimizer | None = None,
        d_optimizer: torch.optim.Optimizer | None = None,
        ema_decay: float | None = None,
        device: torch.device | str | None = None,
        seed: int = 0,
        out_dir: str | Path | None = None,
        checkpoint_every: int | None = None,
        log_every: int = 50,
        progress: bool = True,
        meta: dict[str, Any] | None = None,
    ):
        if d_steps < 1 or batch_size < 1 or log_every < 1:
            raise GanCourseError("d_steps, batch_size and log_every must be positive integers")
        if isinstance(penalty_every, bool) or not isinstance(penalty_every, int) or penalty_every < 1:
            raise GanCourseError(f"penalty_every must be a positive integer (1: every step), got {penalty_every!r}")
        if not hasattr(generator, "latent_dim"):
            raise GanCourseError("the generator needs a `latent_dim` attribute (the size of z)")
        self.device = torch.device(device) if device is not None else get_device()
        self.G = generator.to(self.device)
        self.D = discriminator.to(self.device)
        self.num_classes = getattr(generator, "num_classes", None) if labels is not None else None
        if callable(data) and not isinstance(data, torch.Tensor):
            self.data, self.sampler = None, data
        else:
            if not isinstance(data, torch.Tensor) or len(data) == 0:
                raise GanCourseError("data must be a non-empty tensor of real samples or a sampler function")
            self.data, self.sampler = data.to(self.device), None
        self.labels = labels.to(self.device) if labels is not None else None
        if self.labels is not None and (self.data is None or len(self.labels) != len(self.data)):
            raise GanCourseError("labels must come with a data tensor and have one label per sample")
        if self.labels is not None and not self.num_classes:
            raise GanCourseError("a conditional run needs a generator with a `num_classes` attribute")
        self.batch_size, self.d_steps = batch_size, d_steps
        self.d_loss, self.g_loss, self.penalty, self.penalty_every = d_loss, g_loss, penalty, penalty_every
        self.after_d_step = list(after_d_step)
        if augment is not None and not callable(augment):
            raise GanCourseError(f"augment must be a function f(images, generator=...) -> images, got {type(augment).__name__}")
        self.augment = augment
        self.g_opt = g_optimizer or adam(self.G)
        self.d_opt = d_optimizer or adam(self.D)
        self.ema_decay = ema_decay
        self.ema = copy.deepcopy(self.G).eval().requires_grad_(False) if ema_decay else None
        self.rng = torch.Generator(device=self.device).manual_seed(seed)
        torch.manual_seed(seed)  # dropout and initialisers outside the trainer's generator
        self.out_dir = Path(out_dir) if out_dir is not None else None
        self.checkpoint_every, self.log_every, self.progress = checkpoint_every, log_every, progress
        self.meta = dict(meta or {})
        self.step = 0
        self.saved_step: int | None = None  # the step that out_dir/checkpoint.pt holds, when known
        self.history: dict[str, list[float]] = {"step": [], "d_loss": [], "g_loss": [], "wall_step": [], "wall_time": []}
        if penalty is not None:
            self.history["penalty"] = []
        self.callbacks: list[Callable[[GANTrainer], None]] = []
        self._elapsed = 0.0  # seconds of training before the current fit (restored on resume)
        self._fit_started: float | None = None
        self._ema_stats_step: int | None = None  # the step the EMA's batch-norm statistics were computed at

    # ----------------------------------------------------------------- batches
    def _real(self) -> tuple[torch.Tensor, tuple[torch.Tensor, ...]]:
        if self.sampler is not None:
            return self.sampler(self.batch_size, self.rng), ()
        idx = torch.randint(len(self.data), (self.batch_size,), generator=self.rng, device=self.device)
        return self.data[idx], (() if self.labels is None else (self.labels[idx],))

    def _noise(self) -> tuple[torch.Tensor, tuple[torch.Tensor, ...]]:
        z = torch.randn(self.batch_size, self.G.latent_dim, generator=self.rng, device=self.device)
        if self.num_classes is None:
            return z, ()
        y = torch.randint(self.num_classes, (self.batch_size,), generator=self.rng, device=self.device)
        return z, (y,)

    def _augmented(self, x: torch.Tensor) -> torch.Tensor:
        return x if self.augment is None else self.augment(x, generator=self.rng)

    # -------------------------------------------------------------- one step
    def train_step(self) -> torch.Tensor:
        """One generator step after ``d_steps`` discriminator steps; returns [d_loss, g_loss(, penalty)] on the device."""
        lazy_gain = self.penalty_every if self.step % self.penalty_every == 0 else 0
        for i in range(self.d_steps):
            real, real_cond = self._real()
            z, fake_cond = self._noise()
            last = i == self.d_steps - 1
            with torch.set_grad_enabled(last):  # only the last fake batch is reused by the G step
                fake = self.G(z, *fake_cond)
            d_loss = self.d_loss(self.D(self._augmented(real), *real_cond), self.D(self._augmented(fake.detach()), *fake_cond))
            pen = None
            if self.penalty is not None:
                pen = (lazy_gain * self.penalty(self.D, real, fake.detach(), *real_cond) if lazy_gain
                       else torch.zeros((), device=self.device))
            self.d_opt.zero_grad(set_to_none=True)
            (d_loss + pen if pen is not None else d_loss).backward()
            self.d_opt.step()
            for hook in self.after_d_step:
                hook(self.D)

        self.D.requires_grad_(False)  # the G step needs gradients through D, not for D
        g_loss = self.g_loss(self.D(self._augmented(fake), *fake_cond))
        self.g_opt.zero_grad(set_to_none=True)
        g_loss.backward()
        self.g_opt.step()
        self.D.requires_grad_(True)
        if self.ema is not None:
            self._update_ema()
        parts = [d_loss.detach(), g_loss.detach()] + ([pen.detach()] if pen is not None else [])
        return torch.stack(parts)

    def ema_decay_at(self, step: int) -> float:
        """The EMA decay after ``step`` generator steps: min(decay, (1 + step) / (10 + step)).

        The warm-up lets the average follow the fast early changes instead of dragging the
        random initialisation along for thousands of steps (a short CPU run would sample mostly noise).
        """
        return min(self.ema_decay, (1.0 + step) / (10.0 + step))

    @torch.no_grad()
    def _update_ema(self) -> None:
        ema_p, p = list(self.ema.parameters()), list(self.G.parameters())
        torch._foreach_lerp_(ema_p, p, 1.0 - self.ema_decay_at(self.step))
        for b_ema, b in zip(self.ema.buffers(), self.G.buffers()):
            b_ema.copy_(b)  # replaced by the EMA's own statistics when it samples (sampling_generator)

    # ------------------------------------------------------------------ fit
    def fit(self, steps: int) -> dict[str, list[float]]:
        """Train until ``self.step == steps`` (a total, so a resumed run continues); return the history.

        Raises:
            TrainingInterrupted: SIGINT or SIGTERM arrived; the step under way was finished, its losses
                checked and (with an ``out_dir``) saved. The trainer stays usable: ``fit`` again continues.
            TrainingDiverged: a loss became NaN or infinite (nothing is saved after the last good checkpoint).
        """
        if steps < self.step:
            raise GanCourseError(f"this run is already at step {self.step}; ask for more than {steps} steps")
        keys = ["d_loss", "g_loss"] + (["penalty"] if self.penalty else [])
        buf = torch.zeros(self.log_every, len(keys), device=self.device)
        n, bar = 0, None
        self.G.train()
        self.D.train()
        self._fit_started = time.perf_counter()
        try:
            with StopSignals() as stop:
                bar = self._progress_bar(steps)
                while self.step < steps and stop.signum is None:
                    buf[n].copy_(self.train_step())
                    self.step += 1
                    n += 1
                    due_checkpoint = bool(self.checkpoint_every) and self.step % self.checkpoint_every == 0
                    if n == self.log_every or self.step == steps or due_checkpoint:
                        self._flush(buf[:n], keys, bar)
                        progress.report(self.meta.get("model", "training"), self.step, steps)
                        n = 0
                        for callback in self.callbacks:
                            callback(self)
                        if due_checkpoint:
                            self.save()
                if n:  # stopped by a signal between two reads: check those losses before saving
                    self._flush(buf[:n], keys, bar)
                if self.saved_step != self.step:
                    self.save()
        finally:
            if bar is not None:
                bar.close()
            self._elapsed, self._fit_started = self._clock(), None
        if stop.signum is not None:
            saved = self.checkpoint_path if self.saved_step == self.step else None
            raise TrainingInterrupted(stop.signum, self.step, saved)
        return self.history

    def _clock(self) -> float:
        """Seconds of training so far, the current ``fit`` included."""
        running = time.perf_counter() - self._fit_started if self._fit_started is not None else 0.0
        return self._elapsed + running

    def _flush(self, losses: torch.Tensor, keys: list[str], bar: Any = None) -> None:
        values = losses.cpu()  # the one host sync per log interval
        first = self.step - len(values) + 1
        bad = ~torch.isfinite(values)
        if bad.any():
            row, col = map(int, bad.nonzero()[0])
            kept = f"the last good checkpoint ({self.checkpoint_path}) is intact" if self.checkpoint_path and self.checkpoint_path.exists() else "nothing was saved"
            raise TrainingDiverged(
                f"{keys[col]} became {values[row, col].item()} at generator step {first + row}; training stopped and "
                f"{kept}. Lower the learning rate, check the data is in [-1, 1], or change the seed."
            )
        self.history["step"].extend(range(first, self.step + 1))
        for j, k in enumerate(keys):
            self.history[k].extend(values[:, j].tolist())
        self.history["wall_step"].append(self.step)
        self.history["wall_time"].append(self._clock())
        if bar is not None:
            bar.update(len(values))
            bar.set_postfix({k: f"{self.history[k][-1]:.3f}" for k in ("d_loss", "g_loss")}, refresh=False)

    def _progress_bar(self, steps: int):
        if not self.progress or steps == self.step:
            return None
        from tqdm.auto import tqdm

        return tqdm(total=steps, initial=self.step, desc=self.meta.get("model", "training"), unit="step", mininterval=0.5)

    # ------------------------------------------------------------ sampling
    def sample(self, n: int, labels: torch.Tensor | None = None, seed: int | None = None, use_ema: bool = True) -> torch.Tensor:
        """``n`` samples from the generator (its EMA when kept), eval mode, no autograd, on the device."""
        g = self.sampling_generator if use_ema else self.G
        return generate(g, n, labels=labels, seed=seed)

    @property
    def sampling_generator(self) -> nn.Module:
        """The generator used for sampling: the EMA copy when kept (its batch-norm statistics recomputed from
        its own samples, see :func:`~gancourse.sampling.standing_stats`), else G."""
        if self.ema is None:
            return self.G
        if self._ema_stats_step != self.step:
            standing_stats(self.ema)
            self._ema_stats_step = self.step
        return self.ema

    # ---------------------------------------------------------- checkpoints
    @property
    def checkpoint_path(self) -> Path | None:
        return self.out_dir / "checkpoint.pt" if self.out_dir is not None else None

    def state_dict(self) -> dict[str, Any]:
        return {
            "step": self.step,
            "meta": self.meta,
            "generator": self.G.state_dict(),
            "discriminator": self.D.state_dict(),
            "g_optimizer": self.g_opt.state_dict(),
            "d_optimizer": self.d_opt.state_dict(),
            "ema": self.ema.state_dict() if self.ema is not None else None,
            "history": self.history,
            "elapsed": self._clock(),
            "rng": self.rng.get_state(),  # the batches' and noise's generator
            "global_rng": global_rng_state(),  # Python, NumPy, torch (dropout, a sampler's own draws)
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        try:
            self.G.load_state_dict(state["generator"])
            self.D.load_state_dict(state["discriminator"])
            self.g_opt.load_state_dict(state["g_optimizer"])
            self.d_opt.load_state_dict(state["d_optimizer"])
            if self.ema is not None:
                self.ema.load_state_dict(state["ema"] if state["ema"] is not None else self.G.state_dict())
            self.rng.set_state(state["rng"])
            set_global_rng_state(state.get("global_rng") or {"torch": state["torch_rng"]})  # or a checkpoint from before
            self.step, self.history, self._elapsed = int(state["step"]), state["history"], float(state.get("elapsed", 0.0))
            self._ema_stats_step = None
        except (KeyError, RuntimeError, ValueError, TypeError) as err:
            detail = " ".join(str(err).split())[:200]  # one line: torch lists every mismatched key on its own line
            raise CheckpointError(f"the checkpoint does not fit these models: another recipe, profile or version of the "
                                  f"course trained it; train into a new --out folder ({type(err).__name__}: {detail})") from None
        self.meta.update(state.get("meta", {}))

    def save(self) -> Path | None:
        """Write ``checkpoint.pt`` into ``out_dir`` (atomically); no-op without an ``out_dir``."""
        if self.checkpoint_path is None:
            return None
        path = save_checkpoint(self.checkpoint_path, self.state_dict())
        self.saved_step = self.step
        return path

    def resume(self, path: str | Path | None = None) -> "GANTrainer":
        """Load the checkpoint at ``path`` (default ``out_dir/checkpoint.pt``) and continue from it."""
        path = Path(path) if path is not None else self.checkpoint_path
        if path is None:
            raise GanCourseError("resume needs a checkpoint path or an out_dir")
        self.load_state_dict(load_checkpoint(path, map_location=self.device))
        self.saved_step = self.step if path == self.checkpoint_path else None
        return self

    def steps_per_second(self) -> float:
        """Generator steps per second over the whole run so far."""
        t = self.history["wall_time"]
        return self.history["wall_step"][-1] / t[-1] if t and t[-1] > 0 else float("nan")
