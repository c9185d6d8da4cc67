import math

import numpy as np
import pytest

from gancourse.checks import GanCourseError
from gancourse.theory import js_divergence, kl_divergence, optimal_discriminator, value_function


def random_pair(rng, n=20):
    p, q = rng.random(n), rng.random(n)
    return p / p.sum(), q / q.sum()


def test_optimal_discriminator_closed_form():
    p, q = np.array([0.5, 0.5, 0.0]), np.array([0.25, 0.0, 0.75])
    np.testing.assert_allclose(optimal_discriminator(p, q), [2 / 3, 1.0, 0.0])


def test_optimal_discriminator_is_half_where_both_vanish():
    assert optimal_discriminator([1.0, 0.0], [1.0, 0.0])[1] == 0.5


def test_value_at_optimum_is_minus_log4_plus_2jsd():
    rng = np.random.default_rng(0)
    for _ in range(20):
        p, q = random_pair(rng)
        v = value_function(optimal_discriminator(p, q), p, q)
        assert v == pytest.approx(-math.log(4) + 2 * js_divergence(p, q), abs=1e-12)


def test_optimal_discriminator_maximises_value():
    rng = np.random.default_rng(1)
    p, q = random_pair(rng)
    d_star = optimal_discriminator(p, q)
    best = value_function(d_star, p, q)
    for _ in range(50):
        d = np.clip(d_star + 0.05 * rng.standard_normal(len(p)), 1e-6, 1 - 1e-6)
        assert value_function(d, p, q) <= best + 1e-12


def test_js_bounds_and_symmetry():
    rng = np.random.default_rng(2)
    p, q = random_pair(rng)
    assert js_divergence(p, p) == pytest.approx(0, abs=1e-12)
    assert js_divergence(p, q) == pytest.approx(js_divergence(q, p))
    assert js_divergence([1.0, 0.0], [0.0, 1.0]) == pytest.approx(math.log(2))
    assert 0 <= js_divergence(p, q) <= math.log(2)


def test_kl_infinite_off_support():
    assert kl_divergence([0.5, 0.5], [1.0, 0.0]) == math.inf
    assert kl_divergence([1.0, 0.0], [0.5, 0.5]) == pytest.approx(math.log(2))


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: optimal_discriminator([0.5, 0.6], [0.5, 0.5]), "sum to 1"),
        (lambda: optimal_discriminator([0.5, 0.5], [1.0]), "same points"),
        (lambda: optimal_discriminator([[0.5, 0.5]], [[0.5, 0.5]]), "1-D"),
        (lambda: js_divergence([-0.5, 1.5], [0.5, 0.5]), "non-negative"),
        (lambda: value_function([0.5, 1.2], [0.5, 0.5], [0.5, 0.5]), r"\[0, 1\]"),
        (lambda: value_function([0.5], [0.5, 0.5], [0.5, 0.5]), "one value per point"),
    ],
)
def test_bad_inputs_raise_clear_errors(call, match):
    with pytest.raises(GanCourseError, match=match):
        call()
