"""`gancourse run`: a failing chapter is reported and the others still run; --store keeps PROFILE = "auto"."""
import json
import os

import nbformat
import pytest

from gancourse.checks import GanCourseError
from gancourse.runner import find_notebooks, run_course


def chapter(path, *sources):
    nb = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell('PROFILE = "auto"')
    params.metadata["tags"] = ["parameters"]
    nb.cells = [params] + [nbformat.v4.new_code_cell(s) for s in sources]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, path)


def test_a_failing_chapter_is_reported_and_the_batch_goes_on(tmp_path, capsys):
    chapter(tmp_path / "01_ok.ipynb", "print(PROFILE)")
    chapter(tmp_path / "02_broken.ipynb", "raise ValueError('boom')")
    chapter(tmp_path / "03_ok.ipynb", "x = 1")
    runs = run_course(profile="smoke", out_dir=tmp_path / "build", folder=tmp_path, store=True)
    assert [r.status[:6] for r in runs] == ["ok", "FAILED", "ok"]
    assert "boom" in runs[1].status
    table = capsys.readouterr().out
    assert "02_broken.ipynb" in table and "2/3 chapters ran" in table and "WARNING" not in table
    stored = nbformat.read(tmp_path / "01_ok.ipynb", as_version=4)
    assert stored.cells[0].source == 'PROFILE = "auto"'  # papermill's injected cell is not stored
    assert stored.cells[1].outputs[0]["text"] == "smoke\n"
    assert "papermill" not in stored.metadata
    broken = nbformat.read(tmp_path / "02_broken.ipynb", as_version=4)
    assert not broken.cells[1].outputs  # a failed run stores nothing


def test_a_failure_names_its_cell_and_the_first_line_of_its_error(tmp_path):
    chapter(tmp_path / "01_broken.ipynb", "x = 1", "raise ValueError('first line\\nsecond line')")
    (run,) = run_course(profile="smoke", out_dir=tmp_path / "build", folder=tmp_path)
    assert run.status == "FAILED in cell [4]: ValueError: first line", run.status  # [4]: after papermill's cell


def test_the_status_line_says_cell_training_step_and_time_left(tmp_path):
    import io

    from gancourse import progress
    from gancourse.runner import StatusLine

    chapter(tmp_path / "01_a.ipynb", "x = 1", "# a comment\ny = 2")
    clock = [1000.0]
    status = StatusLine(io.StringIO(), every=3600, clock=lambda: clock[0])  # only line() is read here
    status.begin(tmp_path / "01_a.ipynb", estimate=100.0, after=200.0, progress_file=tmp_path / "p.json")
    try:
        assert "01_a: cell 0/4" in status.line() and "course ~" in status.line()
        status.on_cell_start(cell={"cell_type": "markdown", "source": "text"}, cell_index=1)  # not counted
        status.on_cell_start(cell={"cell_type": "code", "source": "# a comment\ny = 2"}, cell_index=2)
        assert "cell 1/4 `y = 2`" in status.line()
        monkey_env = {progress.ENV: str(tmp_path / "p.json")}
        os.environ.update(monkey_env)
        progress.report("dcgan", 250, 1000)
        assert "dcgan step 250/1,000 (25 %)" in status.line()
        status.on_cell_start(cell={"cell_type": "code", "source": "z = 3"}, cell_index=3)
        assert "dcgan" not in status.line() and "cell 2/4 `z = 3`" in status.line()  # that run was in the last cell
        clock[0] += 40
        assert status.line().endswith("| 40 s in, course ~4 min 20 s left"), status.line()
        clock[0] += 100
        assert status.line().endswith("| 2 min 20 s in (over its estimate), then ~3 min 20 s for the rest"), status.line()  # 100 - 40 s of this chapter + 200 s after
    finally:
        os.environ.pop(progress.ENV, None)
        status.end()


def test_the_course_run_keeps_times_and_reports_training(tmp_path, capsys):
    import nbformat

    from gancourse.runner import TIMES_FILE, estimated_seconds

    code = "from gancourse import progress\nprogress.report('mlp', 5, 10)\nimport os; print(os.environ['GANCOURSE_PROGRESS_FILE'].endswith('progress.json'))"
    chapter(tmp_path / "01_a.ipynb", code)
    chapter(tmp_path / "02_b.ipynb", "x = 1")
    out = tmp_path / "build"
    runs = run_course(profile="smoke", out_dir=out, folder=tmp_path, record_times=True)
    assert [r.status for r in runs] == ["ok", "ok"]
    executed = nbformat.read(out / "01_a.ipynb", as_version=4)
    assert executed.cells[-1].outputs[0]["text"].strip() == "True"  # the kernel was told where to report
    local = json.loads((out / TIMES_FILE).read_text())
    assert set(local["smoke"]) == {"01_a", "02_b"}
    stored = nbformat.read(tmp_path / "02_b.ipynb", as_version=4)
    assert stored.metadata["gancourse"]["run_seconds"]["smoke"] == local["smoke"]["02_b"]
    assert not stored.cells[1].outputs  # --record-times keeps the outputs as they were
    assert estimated_seconds(tmp_path / "02_b.ipynb", "smoke", {}) == local["smoke"]["02_b"]
    assert estimated_seconds(tmp_path / "02_b.ipynb", "cpu", {}) is None
    assert not (out / "progress.json").exists()
    # the second run knows how long the chapters take
    run_course(profile="smoke", out_dir=out, folder=tmp_path)
    assert "stored runs say about" in capsys.readouterr().out


def test_the_status_line_shows_the_kernels_training_step_with_a_relative_build_folder(tmp_path, monkeypatch):
    """`make course` passes out_dir="build", and papermill runs each chapter from its own folder: the status
    line must still find the kernel's report. The chapter waits (up to 60 s) until the line has shown it."""
    from gancourse.runner import StatusLine

    seen = tmp_path / "seen"

    class Stream:  # the status line's output; notes when a line names the kernel's training step
        lines: list[str] = []

        def write(self, text: str) -> None:
            self.lines.append(text)
            if "mlp step 5/10 (50 %)" in text:
                seen.touch()

        def flush(self) -> None:
            pass

    code = (f"import time, pathlib\nfrom gancourse import progress\nprogress.report('mlp', 5, 10)\n"
            f"for _ in range(600):\n    if pathlib.Path({str(seen)!r}).exists(): break\n    time.sleep(0.1)")
    (tmp_path / "notebooks").mkdir()
    chapter(tmp_path / "notebooks" / "01_a.ipynb", code)
    monkeypatch.chdir(tmp_path)
    (run,) = run_course(profile="smoke", out_dir="build", folder="notebooks", status=StatusLine(Stream(), every=0.1))
    assert run.status == "ok"
    assert seen.exists(), Stream.lines[-3:]


def test_finding_chapters(tmp_path):
    with pytest.raises(GanCourseError, match="no chapter notebooks"):
        find_notebooks(folder=tmp_path)
    chapter(tmp_path / "01_a.ipynb")
    assert find_notebooks(["01"], folder=tmp_path) == [tmp_path / "01_a.ipynb"]
    with pytest.raises(GanCourseError, match="no notebook"):
        find_notebooks(["09"], folder=tmp_path)


def _channel_pair():
    import zmq
    import zmq.asyncio
    from jupyter_client.session import Session

    from gancourse.runner import SlicedPollChannel

    ctx = zmq.asyncio.Context()
    a, b = ctx.socket(zmq.PAIR), ctx.socket(zmq.PAIR)
    a.bind("inproc://sliced-poll-test")
    b.connect("inproc://sliced-poll-test")
    session = Session()
    return SlicedPollChannel(b, session), a, session, ctx


def test_a_lost_wake_up_costs_one_poll_slice_not_the_run(monkeypatch):
    """The kernel's reply is on the socket but the first poll is never woken: the wait still ends.

    The runner's clock is a fake one that a poll moves forward by exactly what it was asked to wait,
    so the verdict depends on which polls were made, never on how busy the machine is.
    """
    import asyncio
    from queue import Empty
    from types import SimpleNamespace

    from gancourse import runner

    channel, kernel_side, session, ctx = _channel_pair()
    monkeypatch.setattr(runner, "POLL_SLICE", 0.2)
    clock = SimpleNamespace(now=0.0)
    monkeypatch.setattr(runner, "time", SimpleNamespace(monotonic=lambda: clock.now))
    real_poll, polls = channel.socket.poll, []

    async def lossy_poll(timeout=None, *args):
        polls.append(timeout)
        if len(polls) == 1:  # the lost wake-up: report nothing until the caller's timeout
            if timeout is None:
                await asyncio.Event().wait()  # what a plain channel would do: wait forever
            clock.now += timeout / 1000
            return 0
        ready = await real_poll(0)  # the message is already on the socket: no real waiting
        if not ready:
            clock.now += timeout / 1000
        return ready

    monkeypatch.setattr(channel.socket, "poll", lossy_poll)

    async def scenario():
        session.send(kernel_side, "execute_reply", {"status": "ok"})
        return await asyncio.wait_for(channel.get_msg(timeout=None), 60)  # only a broken client waits that long

    try:
        msg = asyncio.run(scenario())
        assert msg["msg_type"] == "execute_reply" and msg["content"]["status"] == "ok"
        assert polls == [200, 200]  # one slice lost, then the message is read on the next poll
        # a real timeout is still honoured: nothing arrives, and Empty comes once 0.5 s have passed
        polls.clear()
        clock.now = 0.0
        with pytest.raises(Empty):
            asyncio.run(channel.get_msg(timeout=0.5))
        assert max(polls) == 200 and sum(polls) == 500  # in slices, and no longer than asked (ms, rounded down)
        assert clock.now == pytest.approx(0.5)
    finally:
        channel.close()
        kernel_side.close()
        ctx.term()


def test_the_course_runner_uses_the_sliced_poll_client():
    from gancourse.runner import SlicedPollChannel, SlicedPollKernelManager

    client = SlicedPollKernelManager(kernel_name="python3").client()
    assert client.shell_channel_class is SlicedPollChannel and client.iopub_channel_class is SlicedPollChannel
