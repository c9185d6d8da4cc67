"""Grading round trip of exercise set 5 (WGAN losses, clipping, gradient penalty), as test_grading.py does for the others."""
from __future__ import annotations

import pytest

from test_grading import (
    EXERCISES, PATCH_COMPARISONS, SOLUTION_MARK, hidden_tests, read_scores, solutions, submission, write,
)
from gancourse.grading.grader import student_version_texts


@pytest.fixture(scope="module")
def ex05_batch(tmp_path_factory):
    from gancourse.grading.grader import grade_folder

    base = tmp_path_factory.mktemp("ex05")
    subs = base / "submissions"
    sol = solutions("ex05")
    write(subs, "a_solution", submission("ex05", sol))
    write(subs, "b_untouched", submission("ex05"))
    flipped = dict(sol, critic_loss=sol["critic_loss"].replace(
        "return fake_scores.mean() - real_scores.mean()", "return real_scores.mean() - fake_scores.mean()"))
    assert flipped != sol  # the critic would maximise the fakes' scores
    write(subs, "c_sign_flipped", submission("ex05", flipped))
    no_graph = dict(sol, gradient_penalty=sol["gradient_penalty"].replace(", create_graph=True)", ")"))
    assert no_graph != sol  # the right value, but the penalty cannot train the critic
    write(subs, "d_no_create_graph", submission("ex05", no_graph))
    garbage = {k: f"def {k}(*args, **kwargs):\n    return torch.zeros(())" for k in sol}
    write(subs, "f_monkeypatches", submission("ex05", garbage, extra=[PATCH_COMPARISONS]))
    graded = grade_folder(subs, base / "scores.csv", timeout=40, quiet=True)
    return base, read_scores(base / "scores.csv"), graded


def test_ex05_round_trip(ex05_batch):
    base, scores, _ = ex05_batch
    possible = scores["(possible)"]
    assert possible["total"] == 10 and (possible["q1"], possible["q2"], possible["q3"]) == (3, 2, 5)
    assert scores["a_solution"] == possible
    assert scores["b_untouched"]["total"] == 0
    flipped = scores["c_sign_flipped"]
    assert flipped["q1"] == 0 and flipped["q2"] == possible["q2"] and flipped["q3"] == possible["q3"]
    no_graph = scores["d_no_create_graph"]  # passes the public test and the values, fails the weights' gradient
    assert no_graph["q3"] == possible["q3"] - 2 and no_graph["q1"] == possible["q1"] and no_graph["q2"] == possible["q2"]
    assert scores["f_monkeypatches"]["total"] == 0
    feedback = (base / "feedback" / "d_no_create_graph.txt").read_text()
    assert "create_graph" in feedback


def test_ex05_student_version_holds_no_solution_and_no_hidden_test():
    text = (EXERCISES / "ex05.ipynb").read_text()
    sol_lines = {l.strip() for src in solutions("ex05").values() for l in src.splitlines()[2:] if len(l.strip()) > 25}
    hidden = hidden_tests("ex05")
    assert sol_lines and len(hidden) == 5
    assert not SOLUTION_MARK.search(text)
    assert not [l for l in sol_lines if l in text]
    for src in hidden:
        import re

        assert re.search(r"def (\w+)", src).group(1) not in text


def test_ex05_student_version_is_up_to_date_with_its_master():
    assert (EXERCISES / "ex05.ipynb").read_text() == student_version_texts(["ex05"])["ex05"], \
        "exercises/ex05.ipynb is stale: run `python -m gancourse.grading.grader assign ex05`"
