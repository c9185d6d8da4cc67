"""`gancourse run`: a failing chapter is reported and the others still run; --store keeps PROFILE = "auto"."""
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
    assert [r.status.split(":")[0] for r in runs] == ["ok", "FAILED", "ok"]
    assert "boom" in runs[1].status
    table = capsys.readouterr().out
    assert "02_broken.ipynb" in table and "2/3 chapters ran" in table and "WARNING" not in table
    stored = nbformat.read(tmp_path / "01_ok.ipynb", as_version=4)
    assert stored.cells[0].source == 'PROFILE = "auto"'  # papermill's injected cell is not stored
    assert stored.cells[1].outputs[0]["text"] == "smoke\n"
    assert "papermill" not in stored.metadata
    broken = nbformat.read(tmp_path / "02_broken.ipynb", as_version=4)
    assert not broken.cells[1].outputs  # a failed run stores nothing


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
    """The kernel's reply is on the socket but the first poll is never woken: the wait still ends."""
    import asyncio
    import time
    from queue import Empty

    from gancourse import runner

    channel, kernel_side, session, ctx = _channel_pair()
    monkeypatch.setattr(runner, "POLL_SLICE", 0.2)
    real_poll, polls = channel.socket.poll, []

    async def lossy_poll(timeout=None, *args):
        polls.append(timeout)
        if len(polls) == 1:  # the lost wake-up: report nothing until the caller's timeout
            if timeout is None:
                await asyncio.Event().wait()  # what a plain channel would do: wait forever
            await asyncio.sleep(timeout / 1000)
            return 0
        return await real_poll(timeout, *args)

    monkeypatch.setattr(channel.socket, "poll", lossy_poll)

    async def scenario():
        session.send(kernel_side, "execute_reply", {"status": "ok"})
        start = time.monotonic()
        msg = await asyncio.wait_for(channel.get_msg(timeout=None), 5)
        return msg, time.monotonic() - start

    try:
        msg, waited = asyncio.run(scenario())
        assert msg["msg_type"] == "execute_reply" and msg["content"]["status"] == "ok"
        assert polls[0] == 200 and waited < 2  # one slice lost, then the message is read
        # a real timeout is still honoured: nothing arrives, Empty after about the timeout
        start = time.monotonic()
        with pytest.raises(Empty):
            asyncio.run(channel.get_msg(timeout=0.5))
        assert 0.45 < time.monotonic() - start < 2
    finally:
        channel.close()
        kernel_side.close()
        ctx.term()


def test_the_course_runner_uses_the_sliced_poll_client():
    from gancourse.runner import SlicedPollChannel, SlicedPollKernelManager

    client = SlicedPollKernelManager(kernel_name="python3").client()
    assert client.shell_channel_class is SlicedPollChannel and client.iopub_channel_class is SlicedPollChannel
