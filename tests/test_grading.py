"""Grading round trips: the masters in instructor/, the student versions in exercises/, `gancourse grade`.

One batch is graded per exercise set, each holding the solution, the untouched student
version, wrong answers that must cost only their question, and submissions that loop or
monkeypatch numpy and torch; the tests below read their scores. The ex01 batch runs through the command line,
with TMPDIR pointed at a folder the test then finds empty.
"""
from __future__ import annotations

import csv
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from conftest import ROOT
from gancourse.grading import compare, expect
from gancourse.grading.grader import MASTERS, parse_tests, strip_expected, student_version_texts
from gancourse.grading.sandbox import UNSAFE_FLAG, unavailable
from gancourse.grading.worker import to_data

SANDBOX = unavailable() is None  # where bwrap is missing (a learner's machine) the round trips run unsandboxed

EXERCISES = ROOT / "exercises"
SETS = ("ex01", "ex02", "ex03", "ex04", "ex05", "ex06", "ex07", "ex08")
SOLUTION_MARK = re.compile(r"#\s*(BEGIN|END) SOLUTION")


# ------------------------------------------------------------------ helpers
def master_cells(name: str):
    return nbformat.read(MASTERS / f"{name}.ipynb", as_version=4).cells


def solutions(name: str) -> dict[str, str]:
    """Function name -> the master's solution cell, markers removed."""
    out = {}
    for c in master_cells(name):
        if c.cell_type == "code" and "# BEGIN SOLUTION" in c.source:
            src = "\n".join(l for l in c.source.splitlines() if not SOLUTION_MARK.search(l))
            out[re.search(r"def (\w+)\(", src).group(1)] = src
    return out


def hidden_tests(name: str) -> list[str]:
    """The source of every hidden test in a master (from its test cells)."""
    found = []
    for c in master_cells(name):
        if c.cell_type == "code" and "BEGIN TEST CONFIG" in c.source and re.search(r"hidden:\s*true", c.source):
            found.append(c.source.split("# END TEST CONFIG", 1)[1].strip())
    return found


def submission(name: str, answers: dict[str, str] | None = None, extra: list[str] = ()) -> nbformat.NotebookNode:
    """The committed student version with some answers filled in and extra cells appended."""
    nb = nbformat.read(EXERCISES / f"{name}.ipynb", as_version=4)
    for cell in nb.cells:
        m = re.match(r"def (\w+)\(", cell.source) if cell.cell_type == "code" else None
        if m and answers and m.group(1) in answers:
            cell.source = answers[m.group(1)]
    nb.cells += [nbformat.v4.new_code_cell(src) for src in extra]
    return nb


PATCH_COMPARISONS = '''
import numpy as np, torch, math
always = lambda *a, **k: True
np.allclose = np.isclose = np.array_equal = np.array_equiv = always
np.testing.assert_allclose = np.testing.assert_array_equal = np.testing.assert_almost_equal = lambda *a, **k: None
torch.allclose = torch.isclose = torch.equal = always
torch.testing.assert_close = lambda *a, **k: None
math.isclose = always
import gancourse.grading as g
def forged(label, got, expected=None, **kw):  # record what the test expects, when it says
    return g._recorder and g._recorder(label, expected if expected is not None else got, None, 1.0, 1.0)
g.expect = forged
'''


def write(folder: Path, student: str, nb) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, folder / f"{student}.ipynb")


def read_scores(path: Path) -> dict[str, dict[str, float]]:
    rows = list(csv.DictReader(path.open()))
    return {r["student"]: {k: float(v) for k, v in r.items() if k not in ("student", "sandbox")} for r in rows}


def edited(sol: dict[str, str], name: str, old: str, new: str) -> dict[str, str]:
    """The solution with one answer's ``old`` text replaced by ``new`` (the edit must change it)."""
    assert old in sol[name], f"{name}: {old!r} is not in the solution"
    return dict(sol, **{name: sol[name].replace(old, new)})


def grade_batch(tmp_path_factory, exercise: str, wrong: dict[str, dict[str, str]], garbage: str = "torch.zeros(())"):
    """Grade a folder holding the solution, the untouched student version, each ``wrong`` submission
    (student name -> answers) and ``f_monkeypatches``: every answer returns ``garbage`` and the
    notebook patches the comparison functions. Returns (folder, scores by student, graded rows)."""
    from gancourse.grading.grader import grade_folder

    base = tmp_path_factory.mktemp(exercise)
    subs = base / "submissions"
    sol = solutions(exercise)
    write(subs, "a_solution", submission(exercise, sol))
    write(subs, "b_untouched", submission(exercise))
    for student, answers in wrong.items():
        write(subs, student, submission(exercise, answers))
    junk = {k: f"def {k}(*args, **kwargs):\n    return {garbage}" for k in sol}
    write(subs, "f_monkeypatches", submission(exercise, junk, extra=[PATCH_COMPARISONS]))
    graded = grade_folder(subs, base / "scores.csv", timeout=40, quiet=True, sandbox=SANDBOX)
    return base, read_scores(base / "scores.csv"), graded


# ------------------------------------------------------------ graded batches
@pytest.fixture(scope="module")
def ex01_batch(tmp_path_factory):
    """The ex01 batch, graded with `gancourse grade` in a subprocess whose TMPDIR we inspect."""
    base = tmp_path_factory.mktemp("ex01")
    subs, tmp = base / "submissions", base / "tmp"
    tmp.mkdir()
    sol = solutions("ex01")
    write(subs, "a_solution", submission("ex01", sol))
    write(subs, "b_untouched", submission("ex01"))
    wrong = dict(sol, js_divergence=sol["js_divergence"].replace("0.5 * kl(p, m) + 0.5 * kl(q, m)", "kl(p, m) + kl(q, m)"))
    assert wrong != sol
    write(subs, "c_wrong_jsd", submission("ex01", wrong))
    looping_q2 = dict(sol, value_function="while True:\n    pass\n\n" + sol["value_function"])
    write(subs, "d_loops_in_q2", submission("ex01", looping_q2))
    stubborn = "import signal\nsignal.signal(signal.SIGALRM, signal.SIG_IGN)\nwhile True:\n    pass"
    write(subs, "e_loops_for_ever", submission("ex01", sol, extra=[stubborn]))
    garbage = {k: f"def {k}(*args):\n    return 0.5" for k in sol}
    write(subs, "f_monkeypatches", submission("ex01", garbage, extra=[PATCH_COMPARISONS]))
    env = {**os.environ, "TMPDIR": str(tmp), "GANCOURSE_OFFLINE": "1"}
    proc = subprocess.run(
        [sys.executable, "-m", "gancourse", "grade", str(subs), "--out", str(base / "out" / "scores.csv"), "--timeout", "20",
         *([] if SANDBOX else [UNSAFE_FLAG])],
        capture_output=True, text=True, env=env, cwd=ROOT, timeout=600,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    print(proc.stdout)
    return base, read_scores(base / "out" / "scores.csv"), proc.stdout


@pytest.fixture(scope="module")
def ex02_batch(tmp_path_factory):
    sol = solutions("ex02")
    return grade_batch(tmp_path_factory, "ex02", {
        # right on moderate logits, infinite at ±100
        "c_unstable_d_loss": edited(sol, "discriminator_loss",
                                    "return F.softplus(-real_logits).mean() + F.softplus(fake_logits).mean()",
                                    "return torch.log(1 + torch.exp(-real_logits)).mean() + torch.log(1 + torch.exp(fake_logits)).mean()"),
        "d_no_detach": edited(sol, "train_step", "d_loss = discriminator_loss(D(real), D(fake.detach()))",
                              "d_loss = discriminator_loss(D(real), D(G(z)))"),
    })


def test_ex01_solution_full_marks_untouched_zero(ex01_batch):
    base, scores, _ = ex01_batch
    possible = scores["(possible)"]
    assert possible["total"] == 10 and possible["q1"] == 3 and possible["q3"] == 4
    assert scores["a_solution"] == possible
    assert scores["b_untouched"]["total"] == 0
    modes = {r["student"]: r["sandbox"] for r in csv.DictReader((base / "out" / "scores.csv").open())}
    assert set(modes.values()) == ({"", "bwrap"} if SANDBOX else {"", "none"})


def test_ex01_one_wrong_answer_loses_only_its_question(ex01_batch):
    _, scores, _ = ex01_batch
    possible = scores["(possible)"]
    assert scores["c_wrong_jsd"]["q3"] < possible["q3"]
    assert scores["c_wrong_jsd"]["q1"] == possible["q1"] and scores["c_wrong_jsd"]["q2"] == possible["q2"]


def test_a_loop_costs_its_question_and_a_stubborn_one_never_stops_the_batch(ex01_batch):
    base, scores, stdout = ex01_batch
    possible = scores["(possible)"]
    loops = scores["d_loops_in_q2"]
    assert loops["q2"] == 0 and loops["q1"] == possible["q1"] and loops["q3"] == possible["q3"]
    # signal handlers ignored: the whole notebook is stopped at its time limit, and the batch goes on
    assert "e_loops_for_ever" in scores and "stopped after 20 s" in stdout
    assert scores["f_monkeypatches"] is not None  # graded after it
    feedback = (base / "out" / "feedback" / "e_loops_for_ever.txt").read_text()
    assert "ran out of time" in feedback or "stopped" in feedback


def test_monkeypatching_comparisons_gains_nothing(ex01_batch, ex02_batch):
    assert ex01_batch[1]["f_monkeypatches"]["total"] == 0
    assert ex02_batch[1]["f_monkeypatches"]["total"] == 0


def test_no_hidden_test_left_on_disk_after_grading(ex01_batch):
    base, _, _ = ex01_batch
    assert list((base / "tmp").iterdir()) == [], "the grader left files in its temporary folder"
    names = [re.search(r"def (\w+)", src).group(1) for src in hidden_tests("ex01")]
    for path in base.rglob("*"):
        if path.is_file():
            text = path.read_text(errors="replace")
            assert not any(n in text for n in names), f"{path} holds a hidden test"


def test_ex02_round_trip(ex02_batch):
    _, scores, graded = ex02_batch
    possible = scores["(possible)"]
    assert possible["total"] == 10
    assert scores["a_solution"] == possible
    assert scores["b_untouched"]["total"] == 0
    unstable = scores["c_unstable_d_loss"]  # passes the public test, fails the ±100 hidden one
    assert 0 < unstable["q2"] < possible["q2"] and unstable["q1"] == possible["q1"] and unstable["q3"] == possible["q3"]
    no_detach = scores["d_no_detach"]
    assert no_detach["q3"] == possible["q3"] - 1 and no_detach["q1"] == possible["q1"] and no_detach["q2"] == possible["q2"]
    feedback = (ex02_batch[0] / "feedback" / "d_no_detach.txt").read_text()
    assert "no gradient into G" in feedback and "expected 1" in feedback


@pytest.fixture(scope="module")
def ex03_batch(tmp_path_factory):
    sol = solutions("ex03")
    return grade_batch(tmp_path_factory, "ex03", {
        # right shapes and range, but batch norm on the generator's output
        "c_bn_on_output": edited(sol, "generator_block",
                                 "return nn.Sequential(nn.ConvTranspose2d(c_in, c_out, 4, stride=2, padding=1), nn.Tanh())",
                                 "return nn.Sequential(nn.ConvTranspose2d(c_in, c_out, 4, stride=2, padding=1), nn.BatchNorm2d(c_out), nn.Tanh())"),
        "d_lerp_for_slerp": edited(sol, "slerp",
                                   "return (torch.sin((1 - t) * omega) * z0 + torch.sin(t * omega) * z1) / torch.sin(omega)",
                                   "return (1 - t) * z0 + t * z1"),
    })


@pytest.fixture(scope="module")
def ex04_batch(tmp_path_factory):
    sol = solutions("ex04")
    return grade_batch(tmp_path_factory, "ex04", {
        # right shapes, wrong order: q1 only (q2 checks shapes and the use of the label)
        "c_concat_swapped": edited(sol, "combine_label", "torch.cat([z, e], dim=1)", "torch.cat([e, z], dim=1)"),
        "d_ignores_label": edited(sol, "make_conditional_generator", "h = combine_label(z, self.embed(y), how)",
                                  "h = combine_label(z, self.embed(y).detach() * 0, how)"),
    })


def test_ex03_round_trip(ex03_batch):
    _, scores, _ = ex03_batch
    possible = scores["(possible)"]
    assert possible["total"] == 10 and possible["q1"] == 5 and possible["q2"] == 5
    assert scores["a_solution"] == possible
    assert scores["b_untouched"]["total"] == 0
    bn = scores["c_bn_on_output"]  # passes the public shapes test, fails the hidden layer check
    assert 0 < bn["q1"] < possible["q1"] and bn["q2"] == possible["q2"]
    lerp = scores["d_lerp_for_slerp"]  # right at the ends and for parallel vectors only
    assert 0 < lerp["q2"] < possible["q2"] and lerp["q1"] == possible["q1"]
    assert scores["f_monkeypatches"]["total"] == 0


def test_ex04_round_trip(ex04_batch):
    base, scores, _ = ex04_batch
    possible = scores["(possible)"]
    assert possible["total"] == 10 and (possible["q1"], possible["q2"], possible["q3"]) == (3, 5, 2)
    assert scores["a_solution"] == possible
    assert scores["b_untouched"]["total"] == 0
    swapped = scores["c_concat_swapped"]
    assert swapped["q1"] < possible["q1"] and swapped["q2"] == possible["q2"] and swapped["q3"] == possible["q3"]
    ignores = scores["d_ignores_label"]  # right shapes and range, but the label changes nothing
    assert 0 < ignores["q2"] < possible["q2"] and ignores["q1"] == possible["q1"]
    feedback = (base / "feedback" / "d_ignores_label.txt").read_text()
    assert "every pair of images differs" in feedback
    assert scores["f_monkeypatches"]["total"] == 0


@pytest.fixture(scope="module")
def ex05_batch(tmp_path_factory):
    sol = solutions("ex05")
    return grade_batch(tmp_path_factory, "ex05", {
        # the critic would maximise the fakes' scores
        "c_sign_flipped": edited(sol, "critic_loss", "return fake_scores.mean() - real_scores.mean()",
                                 "return real_scores.mean() - fake_scores.mean()"),
        # the right value, but the penalty cannot train the critic
        "d_no_create_graph": edited(sol, "gradient_penalty", ", create_graph=True)", ")"),
    })


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


@pytest.fixture(scope="module")
def ex06_batch(tmp_path_factory):
    sol = solutions("ex06")
    return grade_batch(tmp_path_factory, "ex06", {
        # torch's default unbiased variance: right for identical samples (the public test) only
        "c_unbiased_std": edited(sol, "minibatch_stddev", "y = torch.sqrt((y - y.mean(0)).pow(2).mean(0) + 1e-8)",
                                 "y = torch.sqrt(y.var(0) + 1e-8)"),
        # forgets the kernel's k·k inputs: right for 1x1 kernels (the public test) only
        "d_fan_in_without_kernel": edited(sol, "make_equalized_conv2d",
                                          "self.scale = gain / math.sqrt(c_in * kernel_size * kernel_size)",
                                          "self.scale = gain / math.sqrt(c_in)"),
    })


def test_ex06_round_trip(ex06_batch):
    base, scores, _ = ex06_batch
    possible = scores["(possible)"]
    assert possible["total"] == 10 and (possible["q1"], possible["q2"], possible["q3"], possible["q4"]) == (2, 3, 3, 2)
    assert scores["a_solution"] == possible
    assert scores["b_untouched"]["total"] == 0
    unbiased = scores["c_unbiased_std"]
    assert unbiased["q2"] == 1 and all(unbiased[q] == possible[q] for q in ("q1", "q3", "q4"))
    fan_in = scores["d_fan_in_without_kernel"]
    assert fan_in["q3"] == 2 and all(fan_in[q] == possible[q] for q in ("q1", "q2", "q4"))
    assert scores["f_monkeypatches"]["total"] == 0
    feedback = (base / "feedback" / "c_unbiased_std.txt").read_text()
    assert "biased variance" in feedback


@pytest.fixture(scope="module")
def ex07_batch(tmp_path_factory):
    sol = solutions("ex07")
    return grade_batch(tmp_path_factory, "ex07", {
        # N instead of N - 1: right on the public test (equal covariances), wrong on the hidden ones
        "c_biased_covariance": edited(sol, "frechet_distance_from_features",
                                      "np.cov(a, rowvar=False), np.cov(b, rowvar=False)",
                                      "np.cov(a, rowvar=False, bias=True), np.cov(b, rowvar=False, bias=True)"),
        # a 2σ threshold: right on the public test, too few high-quality samples on the ring
        "d_two_sigma": edited(sol, "mode_coverage_counts", "<= 3 * std", "<= 2 * std"),
    }, garbage="0.0")


def test_ex07_round_trip(ex07_batch):
    base, scores, _ = ex07_batch
    possible = scores["(possible)"]
    assert possible["total"] == 10 and (possible["q1"], possible["q2"], possible["q3"]) == (4, 3, 3)
    assert scores["a_solution"] == possible
    assert scores["b_untouched"]["total"] == 0
    biased = scores["c_biased_covariance"]  # passes the public test, fails both hidden ones
    assert biased["q1"] == 1 and biased["q2"] == possible["q2"] and biased["q3"] == possible["q3"]
    two_sigma = scores["d_two_sigma"]
    assert two_sigma["q3"] == 1 and two_sigma["q1"] == possible["q1"] and two_sigma["q2"] == possible["q2"]
    assert scores["f_monkeypatches"]["total"] == 0
    feedback = (base / "feedback" / "d_two_sigma.txt").read_text()
    assert "share of high-quality samples" in feedback


@pytest.fixture(scope="module")
def ex08_batch(tmp_path_factory):
    sol = solutions("ex08")
    return grade_batch(tmp_path_factory, "ex08", {
        # σ as a Python float: right values, but σ no longer trains anything (the gradient test)
        "c_sigma_item": edited(sol, "power_iteration", "return torch.dot(u, mat @ v), u, v",
                               "return torch.dot(u, mat @ v).item(), u, v"),
        # the hinge without its relu: a plain Wasserstein critic loss shifted by 2
        "d_hinge_no_relu": edited(sol, "hinge_d_loss",
                                  "torch.clamp(1.0 - real_logits, min=0).mean() + torch.clamp(1.0 + fake_logits, min=0).mean()",
                                  "(1.0 - real_logits).mean() + (1.0 + fake_logits).mean()"),
        # the right value, but the penalty cannot train D
        "e_r1_no_create_graph": edited(sol, "r1", ", create_graph=True)", ")"),
        # torch.roll: what leaves one side comes back in on the other instead of the fill
        "g_shift_wraps": dict(sol, shift="def shift(images, dy, dx, fill=-1.0):\n"
                                         "    return torch.stack([torch.roll(images[i], (int(dy[i]), int(dx[i])), dims=(1, 2))\n"
                                         "                        for i in range(len(images))])"),
        # the package's own answers: q1 through the function, q4 through its module
        "h_package_answers": dict(sol, power_iteration="def power_iteration(weight, u, n_iter=1):\n"
                                                       "    from gancourse.spectral import spectral_norm_power_iteration\n"
                                                       "    return spectral_norm_power_iteration(weight, u, n_iter)",
                                  shift="def shift(images, dy, dx, fill=-1.0):\n    from gancourse import augment\n"
                                        "    return augment.shift_images(images, dy, dx, fill=fill)"),
    })


def test_ex08_round_trip(ex08_batch):
    base, scores, _ = ex08_batch
    possible = scores["(possible)"]
    assert possible["total"] == 10 and (possible["q1"], possible["q2"], possible["q3"], possible["q4"]) == (3, 2, 3, 2)
    assert scores["a_solution"] == possible
    assert scores["b_untouched"]["total"] == 0
    others = lambda row, q: all(row[o] == possible[o] for o in ("q1", "q2", "q3", "q4") if o != q)
    item = scores["c_sigma_item"]  # passes every value, fails the gradient
    assert item["q1"] == possible["q1"] - 0.5 and others(item, "q1")
    no_relu = scores["d_hinge_no_relu"]
    assert no_relu["q2"] == 0 and others(no_relu, "q2")
    no_graph = scores["e_r1_no_create_graph"]
    assert no_graph["q3"] == possible["q3"] - 0.5 and others(no_graph, "q3")
    wraps = scores["g_shift_wraps"]
    assert wraps["q4"] == 0 and others(wraps, "q4")
    package = scores["h_package_answers"]  # right answers, but the course's own: 0 for q1 and q4 only
    assert package["q1"] == 0 and package["q4"] == 0
    assert package["q2"] == possible["q2"] and package["q3"] == possible["q3"]
    assert scores["f_monkeypatches"]["total"] == 0
    text = (base / "feedback" / "h_package_answers.txt").read_text()
    assert "the notebook uses gancourse.spectral.spectral_norm_power_iteration, the course's own version of what q1 asks for" in text
    assert "the notebook uses gancourse.augment" in text and "what q4 asks for" in text
    assert "create_graph" in (base / "feedback" / "e_r1_no_create_graph.txt").read_text()


# ------------------------------------------------------- student versions
@pytest.mark.parametrize("name", SETS)
def test_student_versions_hold_no_solution_and_no_hidden_test(name):
    files = [p for p in EXERCISES.rglob("*") if p.is_file()]
    texts = {p: p.read_text(errors="replace") for p in files}
    sol_lines = {l.strip() for src in solutions(name).values() for l in src.splitlines()[2:] if len(l.strip()) > 25}
    hidden = hidden_tests(name)
    assert sol_lines and hidden
    for p, text in texts.items():
        assert not SOLUTION_MARK.search(text), p
        leaked = [l for l in sol_lines if l in text]
        assert not leaked, f"{p} shows solution lines {leaked[:2]}"
        for src in hidden:
            fn = re.search(r"def (\w+)", src).group(1)
            assert fn not in text, f"{p} holds the hidden test {fn}"
    # nor does the installed package: nothing in gancourse/ names a hidden test
    for p in (ROOT / "gancourse").rglob("*"):
        if p.is_file() and p.suffix in (".py", ".json", ".ipynb", ".txt"):
            text = p.read_text(errors="replace")
            assert not any(re.search(r"def (\w+)", s).group(1) in text for s in hidden), p


def test_student_versions_are_up_to_date_with_the_masters():
    fresh = student_version_texts(list(SETS))
    for name in SETS:
        committed = (EXERCISES / f"{name}.ipynb").read_text()
        assert committed == fresh[name], f"exercises/{name}.ipynb is stale: run `make exercises`"


def test_masters_do_not_ship_with_the_package():
    import tomllib

    cfg = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    assert cfg["packages"]["find"]["include"] == ["gancourse*"]
    assert not (ROOT / "instructor" / "__init__.py").exists()
    assert all("instructor" not in str(v) for v in cfg.get("package-data", {}).values())


# -------------------------------------------------------------- the pieces
def test_expect_asserts_in_a_notebook_and_compare_is_tolerant():
    import numpy as np
    import torch

    expect("same", torch.tensor([1.0, 2.0]), [1.0, 2.0 + 1e-7])
    expect("array vs list", np.array([[0.5]]), np.array([[0.5]]))
    with pytest.raises(AssertionError, match="value 1 is 3"):
        expect("differs", [1.0, 3.0], [1.0, 2.0])
    with pytest.raises(AssertionError, match="got None"):
        expect("missing return", None, 1.0)
    assert compare(to_data(float("nan")), to_data(float("nan")), 0, 0) is None
    assert compare(to_data(float("inf")), to_data(1e308), 0, 0) is not None
    assert compare(to_data([torch.ones(2), 3.0]), to_data([torch.ones(2), 3.0]), 0, 0) is None
    assert "shape" in compare(to_data(torch.ones(2, 2)), to_data(torch.ones(4)), 0, 0)


def test_tests_reach_the_submission_without_their_expected_values():
    src = 'def test_x(f):\n    expect("a", f(1), expected=0.25, atol=1e-3)\n    g.expect("b", f(2), [0.5, 0.5])\n'
    stripped = strip_expected(src)
    assert "0.25" not in stripped and "0.5" not in stripped and "atol" not in stripped
    file = 'from otter.test_files import test_case\n@test_case(points=2, hidden=True)\n' + src
    (t,) = parse_tests("q9", file)
    assert (t.id, t.points, t.hidden, t.args) == ("q9/test_x", 2.0, True, ["f"])
