"""gancourse.metrics: the shipped feature network, every metric, and cross-checks against
pytorch-fid and torchmetrics (both installed by `make test`; no network, no Inception download)."""
from __future__ import annotations

import ast
import importlib.util
import math
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from gancourse import GanCourseError
from gancourse.cli import main as cli_main
from gancourse.data import load_mnist
from gancourse.metrics import (
    classify, extract_features, feature_stats, fid, frechet_distance, inception_score, kid, knn,
    load_classifier, mmd2_unbiased, mode_coverage, nearest_neighbours, precision_recall,
    precision_recall_from_features, reference_stats, two_sample_test, two_sample_test_points,
)
from gancourse.metrics.classifier import ASSET
from gancourse.metrics.two_sample import binomial_tail
from gancourse.toys import ring_of_gaussians, two_cities


def _shuffled(split):
    """The split in a fixed random order (the offline subset is stored sorted by class)."""
    d = load_mnist(split, verbose=False)
    perm = torch.randperm(len(d.labels), generator=torch.Generator().manual_seed(0))
    return d._replace(images=d.images[perm], labels=d.labels[perm])


@pytest.fixture(scope="module")
def train():
    return _shuffled("train")


@pytest.fixture(scope="module")
def test_digits():
    return _shuffled("test")


def _pytorch_fid_frechet():
    """pytorch-fid's calculate_frechet_distance, read from its installed source: importing
    pytorch_fid.fid_score needs torchvision, which this course does not install."""
    spec = importlib.util.find_spec("pytorch_fid")
    source = Path(spec.submodule_search_locations[0], "fid_score.py").read_text()
    fn = next(n for n in ast.parse(source).body if isinstance(n, ast.FunctionDef) and n.name == "calculate_frechet_distance")
    from scipy import linalg

    namespace = {"np": np, "linalg": linalg}
    exec(compile(ast.Module([fn], type_ignores=[]), "pytorch_fid/fid_score.py", "exec"), namespace)
    return namespace["calculate_frechet_distance"]


def _random_gaussian(rng, d, n=None):
    a = rng.normal(size=(d, n or 3 * d))
    return rng.normal(size=d), a @ a.T / a.shape[1]


# ------------------------------------------------------------------ feature network
def test_feature_network_is_frozen_in_eval_mode_and_small():
    net = load_classifier()
    assert not net.training and all(not p.requires_grad for p in net.parameters())
    net.train()  # e.g. a torchmetrics Metric.train() reaching it: ignored
    assert not net.training and not any(m.training for m in net.modules())
    assert ASSET.stat().st_size < 1_000_000


def test_classifier_held_out_accuracy_matches_what_was_recorded(test_digits):
    net = load_classifier()
    acc = float((classify(test_digits.images).argmax(1) == test_digits.labels).float().mean())
    assert acc >= 0.95
    assert abs(acc - net.info["test_accuracy"]) <= 0.01
    assert net.info["n_test"] == len(test_digits.labels)


def test_features_are_deterministic_and_batch_independent(test_digits):
    x = test_digits.images[:64]
    a, b = extract_features(x, batch_size=64), extract_features(x, batch_size=7)
    assert a.shape == (64, 128) and torch.allclose(a, b, atol=1e-5)


# ------------------------------------------------------------------ Fréchet distance
PYTORCH_FID_SCIPY_WARNING = "ignore:The `disp` argument is deprecated:DeprecationWarning"


@pytest.mark.filterwarnings(PYTORCH_FID_SCIPY_WARNING)
def test_frechet_distance_equals_pytorch_fid():
    reference = _pytorch_fid_frechet()
    rng = np.random.default_rng(0)
    for d in (2, 16, 64):
        mu1, s1 = _random_gaussian(rng, d)
        mu2, s2 = _random_gaussian(rng, d)
        ours, theirs = frechet_distance(mu1, s1, mu2, s2), float(reference(mu1, s1, mu2, s2))
        assert ours == pytest.approx(theirs, rel=1e-6, abs=1e-9)


@pytest.mark.filterwarnings(PYTORCH_FID_SCIPY_WARNING)
def test_frechet_distance_closed_form_and_singular_covariances():
    rng = np.random.default_rng(1)
    a, b = rng.uniform(0, 2, 10), rng.uniform(0, 2, 10)
    mu1, mu2 = rng.normal(size=10), rng.normal(size=10)
    expected = ((mu1 - mu2) ** 2).sum() + ((np.sqrt(a) - np.sqrt(b)) ** 2).sum()  # commuting covariances
    assert frechet_distance(mu1, np.diag(a), mu2, np.diag(b)) == pytest.approx(expected, rel=1e-10)
    mu, s = _random_gaussian(rng, 50, n=5)  # rank 5 of 50: singular
    assert frechet_distance(mu, s, mu, s) == pytest.approx(0.0, abs=1e-8)
    mu2, s2 = _random_gaussian(rng, 50, n=5)
    value = frechet_distance(mu, s, mu2, s2)
    theirs = float(_pytorch_fid_frechet()(mu, s, mu2, s2))  # pytorch-fid needs its eps jitter here
    assert math.isfinite(value) and value == pytest.approx(theirs, rel=1e-3)


def test_frechet_distance_rejects_mismatched_shapes_and_nan():
    mu, s = np.zeros(3), np.eye(3)
    with pytest.raises(GanCourseError, match="covariances"):
        frechet_distance(mu, s, np.zeros(4), np.eye(4))
    with pytest.raises(GanCourseError, match="finite"):
        frechet_distance(mu, s * np.nan, mu, s)


class _Features(nn.Module):
    """The shipped classifier's features as the module torchmetrics calls."""

    num_features = 128

    def __init__(self):
        super().__init__()
        self.net = load_classifier()

    def forward(self, x):
        return self.net.features(x)


def test_fid_equals_torchmetrics_with_the_same_feature_network(train, test_digits):
    from torchmetrics.image.fid import FrechetInceptionDistance

    real, fake = train.images[:600], test_digits.images[:400]
    metric = FrechetInceptionDistance(feature=_Features(), input_img_size=(1, 28, 28))
    metric.update(real, real=True)
    metric.update(fake, real=False)
    assert fid(real, fake) == pytest.approx(float(metric.compute()), rel=1e-3)


def test_fid_of_a_set_against_itself_is_zero_and_falls_with_sample_size(train):
    x = train.images
    assert fid(x[:500], x[:500]) == pytest.approx(0.0, abs=1e-6)
    small = fid(x[:100], x[100:200])
    large = fid(x[:2000], x[2000:4000])
    assert large < small / 3  # the small-sample bias of FID, ~1/n


def test_fid_of_held_out_digits_against_reference(test_digits):
    ref = reference_stats()
    assert ref.mu.shape == (128,) and ref.n == 4500
    held_out = fid(test_digits.images, ref)
    blank = fid(-torch.ones(100, 1, 28, 28), ref)
    assert 0 < held_out < blank / 10


# ------------------------------------------------------------------ KID, IS, PR
def test_kid_is_unbiased_for_one_distribution_and_matches_torchmetrics(train):
    from torchmetrics.image.kid import poly_mmd

    same = kid(train.images[:1000], train.images[1000:2000], subsets=20, subset_size=500)
    ones = train.images[train.labels == 1][:400]
    other = kid(train.images[:1000], ones, subsets=20, subset_size=400)
    assert abs(same.mean) < max(3 * same.std, 1e-3) and same.std > 0
    assert other.mean > 20 * abs(same.mean) + 0.01
    f = torch.randn(2, 50, 16, generator=torch.Generator().manual_seed(0)).double()
    assert mmd2_unbiased(f[0], f[1]) == pytest.approx(float(poly_mmd(f[0], f[1])), rel=1e-9, abs=1e-12)


def test_inception_score_bounds(train):
    real = inception_score(train.images[:1000])
    one_class = inception_score(train.images[train.labels == 3][:300])
    assert 6.0 < real.mean <= 10.0 and real.std >= 0  # < 10: label smoothing keeps p(y|x) below 1
    assert 1.0 <= one_class.mean < 1.5
    sorted_by_class = load_mnist("test", verbose=False).images  # the offline subset is stored by class
    assert inception_score(sorted_by_class).mean > 6.0  # the splits are random, not one class each


def test_inception_v3_is_never_downloaded(tmp_path, monkeypatch, train):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    with pytest.raises(GanCourseError, match="never downloads"):
        inception_score(train.images[:20], network="inception")
    with pytest.raises(GanCourseError, match="choose"):
        inception_score(train.images[:20], network="resnet")


def test_precision_recall_identical_and_disjoint(train):
    x = train.images[:300]
    assert precision_recall(x, x) == (1.0, 1.0)
    f = torch.randn(200, 8, generator=torch.Generator().manual_seed(0))
    assert precision_recall_from_features(f, f + 100) == (0.0, 0.0)
    half = precision_recall_from_features(f, torch.cat([f[:100], f[:100] + 100]))
    assert half.precision == pytest.approx(0.5) and 0 < half.recall < 1
    with pytest.raises(GanCourseError, match="k must"):
        precision_recall_from_features(f, f, k=500)


# ------------------------------------------------------------------ neighbours, two-sample
def test_nearest_neighbours_finds_copies(train):
    x = train.images[:500]
    nn_ = nearest_neighbours(x[[7, 42, 99]], x, k=2)
    assert nn_.indices[:, 0].tolist() == [7, 42, 99]
    assert torch.all(nn_.distances[:, 0] == 0) and torch.all(nn_.distances[:, 1] > 1)
    assert nearest_neighbours(x[[5]], x, space="features").indices[0, 0] == 5
    assert knn(torch.zeros(1, 2), torch.tensor([[3.0, 4.0], [1.0, 0.0]])).distances.tolist() == [[1.0]]


def test_two_sample_test_same_and_different(train):
    same = two_sample_test(train.images[:600], train.images[600:1200])
    diff = two_sample_test(train.images[:600], train.images[:600].flip(-1))  # mirrored digits
    assert 0.4 < same.accuracy < 0.6 and same.p_value > 0.01
    assert diff.accuracy > 0.9 and diff.p_value < 1e-6
    g = torch.Generator().manual_seed(0)
    shifted = two_sample_test_points(torch.randn(400, generator=g), torch.randn(400, generator=g) + 1)
    assert shifted.accuracy > 0.6 and shifted.n_test == 400


def test_binomial_tail_exact():
    from scipy.stats import binom

    for k, n in ((0, 10), (6, 10), (60, 100), (900, 1000)):
        assert binomial_tail(k, n) == pytest.approx(binom.sf(k - 1, n, 0.5), rel=1e-9, abs=1e-300)


# ------------------------------------------------------------------ mode coverage
def test_mode_coverage_exact_collapsed_and_off_mode():
    ring = ring_of_gaussians()
    exact = mode_coverage(ring.sample(4000, torch.Generator().manual_seed(0)), ring)
    assert exact.modes_covered == 8 and exact.n_modes == 8
    assert exact.high_quality_share == pytest.approx(1 - math.exp(-4.5), abs=0.01)  # P(|z| <= 3) in 2-D
    collapsed = mode_coverage(ring.means[2] + 0.001 * torch.randn(500, 2), ring)
    assert collapsed.modes_covered == 1 and collapsed.counts[2] == 500 and collapsed.high_quality_share == 1.0
    off = mode_coverage(torch.zeros(100, 2), ring)  # the centre of the ring: near no mode
    assert off.modes_covered == 0 and off.high_quality_share == 0.0
    cities = two_cities()
    one_city = torch.cat([torch.full((99,), 25.0), torch.tensor([5.0])])
    assert mode_coverage(one_city, cities).modes_covered == 2
    assert mode_coverage(one_city, cities, min_count=5).modes_covered == 1
    with pytest.raises(GanCourseError, match="expected samples"):
        mode_coverage(torch.zeros(10, 3), ring)


# ------------------------------------------------------------------ bad inputs
@pytest.mark.parametrize("bad, message", [
    (torch.zeros(4, 784), "shape"),
    (torch.full((4, 1, 28, 28), 255.0), r"\[-1, 1\]"),
    (torch.zeros(4, 3, 28, 28), "channel"),
    (torch.zeros(4, 1, 32, 32), "28x28"),
    (torch.zeros(4, 1, 28, 28, dtype=torch.uint8), "float"),
])
def test_metrics_reject_wrong_shape_or_range(bad, message, test_digits):
    good = test_digits.images[:20]
    for call in (
        lambda: fid(bad, good), lambda: fid(good, bad), lambda: kid(bad, good), lambda: inception_score(bad),
        lambda: precision_recall(good, bad), lambda: two_sample_test(bad, good), lambda: extract_features(bad),
    ):
        with pytest.raises(GanCourseError, match=message):
            call()
    with pytest.raises(GanCourseError):
        nearest_neighbours(bad, good)


# ------------------------------------------------------------------ CLI
def test_cli_evaluate_prints_the_table(tmp_path, capsys, test_digits):
    path = tmp_path / "samples.npz"
    np.savez_compressed(path, images=test_digits.images[:200].numpy())
    assert cli_main(["evaluate", str(path)]) == 0
    out = capsys.readouterr().out
    for row in ("FID", "KID", "IS", "precision", "recall", "C2ST accuracy", "held-out real"):
        assert row in out


def test_cli_evaluate_errors_are_one_line(tmp_path, capsys):
    assert cli_main(["evaluate", str(tmp_path / "missing.npz")]) == 2
    bad = tmp_path / "bad.npz"
    np.savez_compressed(bad, images=np.full((5, 1, 28, 28), 255, dtype=np.float32))
    assert cli_main(["evaluate", str(bad)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 2 and all(line.startswith("gancourse: error:") for line in err)
