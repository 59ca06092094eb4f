"""Dataset loaders on files in the real formats, and their error messages."""

from __future__ import annotations

import numpy as np
import pytest

from alvae.data import loaders as data
from alvae.data.loaders import DataError
from conftest import medmnist_arrays, write_idx


def test_digits_form():
    ds = data.load_digits_dataset()
    assert ds.train_images.shape == (1500, 1, 8, 8) and ds.train_images.dtype == np.uint8
    assert ds.test_images.shape == (297, 1, 8, 8)
    assert ds.task == "multi-class" and ds.n_classes == 10
    assert ds.train_images.max() == 255 and set(np.unique(ds.train_labels)) == set(range(10))


def test_idx_gz_and_plain(idx_dir, tmp_path_factory):
    ds = data.load_idx_dataset("mnist", idx_dir)
    assert ds.train_images.shape == (50, 1, 28, 28) and ds.test_labels.shape == (20,)
    plain = tmp_path_factory.mktemp("plain")
    for f in idx_dir.iterdir():
        write_idx(plain / f.name.removesuffix(".gz"), data.read_idx(f), gz=False)
    ds2 = data.load_idx_dataset("mnist", plain)
    np.testing.assert_array_equal(ds.train_images, ds2.train_images)


def test_idx_torchvision_layout(idx_dir, tmp_path_factory):
    root = tmp_path_factory.mktemp("tv")
    raw = root / "MNIST" / "raw"
    raw.mkdir(parents=True)
    for f in idx_dir.iterdir():
        (raw / f.name).write_bytes(f.read_bytes())
    assert len(data.load_idx_dataset("mnist", root).train_images) == 50


def test_fashion_mnist_debian_files():
    """The Debian package's real files (installed by .ci/run)."""
    ds = data.load_idx_dataset("fashion_mnist")
    assert ds.train_images.shape == (60000, 1, 28, 28) and ds.test_images.shape == (10000, 1, 28, 28)
    assert ds.class_names[9] == "Ankle boot"


def test_idx_truncated(idx_dir):
    f = idx_dir / "train-images-idx3-ubyte.gz"
    import gzip

    raw = gzip.decompress(f.read_bytes())
    f.write_bytes(gzip.compress(raw[:-100]))
    with pytest.raises(DataError, match="truncated or corrupt IDX.*train-images|train-images.*truncated"):
        data.load_idx_dataset("mnist", idx_dir)


def test_idx_missing_offline(tmp_path):
    with pytest.raises(DataError) as err:
        data.load_idx_dataset("mnist", tmp_path / "none", download=False)
    msg = str(err.value)
    assert "train-images-idx3-ubyte.gz" in msg and str(tmp_path / "none") in msg
    assert "download: true" in msg


def test_idx_download_impossible(tmp_path, monkeypatch):
    def offline(kind, root):
        raise OSError("Name or service not known")

    from alvae.data.sources import idx

    monkeypatch.setattr(idx, "_download_torchvision", offline)
    with pytest.raises(DataError, match=r"download failed \(Name or service not known\).*Place"):
        data.load_idx_dataset("mnist", tmp_path / "none", download=True)


def _medmnist_file(root, flag="chestmnist", arrays=None):
    root.mkdir(parents=True, exist_ok=True)
    path = root / f"{flag}.npz"
    np.savez(path, **(arrays or medmnist_arrays()))
    return path


def test_medmnist_md5_ok(tmp_path, monkeypatch):
    from medmnist import INFO

    path = _medmnist_file(tmp_path)
    monkeypatch.setitem(INFO["chestmnist"], "MD5", data.md5sum(path))
    ds = data.load_medmnist("chestmnist", tmp_path)
    assert ds.task == "multi-label" and ds.n_classes == 14 and ds.class_names[0] == "atelectasis"
    assert ds.val_images.shape == (20, 1, 28, 28) and ds.train_labels.shape == (60, 14)


def test_medmnist_md5_mismatch(tmp_path):
    path = _medmnist_file(tmp_path)
    assert path.name == "chestmnist.npz"  # the file the message must name
    with pytest.raises(DataError, match=r"chestmnist\.npz: MD5 mismatch.*check_md5: false"):
        data.load_medmnist("chestmnist", tmp_path)
    ds = data.load_medmnist("chestmnist", tmp_path, check_md5=False)  # explicitly off
    assert len(ds.train_images) == 60


def test_medmnist_missing_offline(tmp_path):
    with pytest.raises(DataError, match=r"chestmnist\.npz: file not found\. Place chestmnist\.npz"):
        data.load_medmnist("chestmnist", tmp_path / "nothing", download=False)


def test_medmnist_multiclass_flag(tmp_path):
    arrays = medmnist_arrays()
    for split in ("train", "val", "test"):
        n = len(arrays[f"{split}_images"])
        arrays[f"{split}_labels"] = np.arange(n).reshape(n, 1) % 9
        arrays[f"{split}_images"] = np.repeat(arrays[f"{split}_images"][..., None], 3, axis=3)
    _medmnist_file(tmp_path, "pathmnist", arrays)
    ds = data.load_medmnist("pathmnist", tmp_path, check_md5=False)
    assert ds.task == "multi-class" and ds.n_classes == 9
    assert ds.train_images.shape == (60, 3, 28, 28) and ds.train_labels.shape == (60,)


def test_npz_truncated(tmp_path):
    path = _medmnist_file(tmp_path / "x")
    path.write_bytes(path.read_bytes()[:500])
    with pytest.raises(DataError, match=r"chestmnist\.npz: not a readable \.npz file \(truncated or corrupt"):
        data.load_npz_dataset(path)


def test_npz_wrong_shape(tmp_path):
    arrays = medmnist_arrays()
    arrays["train_images"] = arrays["train_images"].reshape(60, 28 * 28)
    path = tmp_path / "user.npz"
    np.savez(path, **arrays)
    with pytest.raises(DataError, match=r"user\.npz \(train split\): images must have shape"):
        data.load_npz_dataset(path)


def test_npz_labels_out_of_range(tmp_path):
    arrays = {k: v for k, v in medmnist_arrays().items() if "val" not in k}
    arrays["train_labels"] = np.arange(60) % 5
    arrays["test_labels"] = np.arange(30) % 5
    arrays["class_names"] = np.array(["a", "b", "c"])
    path = tmp_path / "user.npz"
    np.savez(path, **arrays)
    with pytest.raises(DataError, match=r"user\.npz \(train split\): labels out of range: found 0\.\.4, expected 0\.\.2"):
        data.load_npz_dataset(path)


def test_npz_multilabel_not_binary(tmp_path):
    arrays = medmnist_arrays()
    arrays["test_labels"][0, 0] = 2
    path = tmp_path / "user.npz"
    np.savez(path, **arrays)
    with pytest.raises(DataError, match=r"\(test split\): multi-label labels must be 0 or 1"):
        data.load_npz_dataset(path)


def test_npz_missing_keys(tmp_path):
    path = tmp_path / "user.npz"
    np.savez(path, train_images=np.zeros((2, 4, 4), np.uint8))
    with pytest.raises(DataError, match=r"missing arrays \['train_labels', 'test_images', 'test_labels'\]"):
        data.load_npz_dataset(path)


def test_subset_too_large():
    with pytest.raises(DataError, match=r"datasets\.digits\.subset_size \(2000\) is larger than the training split \(1500\)"):
        data.draw_subset(data.load_digits_dataset(), 2000, seed=0)


def test_subset_reproducible_bit_for_bit(tmp_path):
    ds = data.load_digits_dataset()
    a, b = data.draw_subset(ds, 700, seed=3), data.draw_subset(ds, 700, seed=3)
    data.save_subset(a, tmp_path / "a.npz")
    data.save_subset(b, tmp_path / "b.npz")
    assert (tmp_path / "a.npz").read_bytes() == (tmp_path / "b.npz").read_bytes()
    c = data.load_subset(tmp_path / "a.npz")
    np.testing.assert_array_equal(c.pool_images, ds.train_images[c.pool_indices])
    assert c.task == "multi-class" and len(c) == 700
    assert not np.array_equal(data.draw_subset(ds, 700, seed=4).pool_indices, c.pool_indices)
