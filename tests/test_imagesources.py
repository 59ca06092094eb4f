"""Sources folder, csv, cifar10, cifar100 and svhn on small files in the real formats
(PNG/JPEG folders and manifests, CIFAR's pickled batches, SVHN's .mat files), their
one-line errors, MedMNIST+ sizes, and the file lists behind the content digest."""

from __future__ import annotations

import csv
import io
import os
import pickle
import tarfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from alvae.checks import ConfigError, validate_config
from alvae.data import loaders as data
from alvae.data import sources as datasources
from alvae.data.loaders import DataError
from alvae.data.sources import folder as folder_source
from alvae.data.sources import manifest as csv_source
from alvae.data.sources import medmnist as medmnist_source
from alvae.data.sources import torchvision_sets as tv_source

CLASSES = ("cat", "dog", "eel")


def write_png(path: Path, array: np.ndarray) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(array).save(path)
    return path


def image(rng, size=16, channels=1) -> np.ndarray:
    shape = (size, size) if channels == 1 else (size, size, channels)
    return rng.integers(0, 256, shape, dtype=np.uint8)


def make_folder(root: Path, split=True, channels=1, size=16, classes=CLASSES, n=(6, 3), seed=0):
    """root/train|test/<class>/<i>.png (split) or root/<class>/<i>.png; returns
    {split: [(path, class index)]} in the order the loader reads them."""
    rng = np.random.default_rng(seed)
    written = {}
    for split_name, count in (("train", n[0]), ("test", n[1])) if split else (("all", n[0]),):
        base = root / split_name if split else root
        written[split_name] = [(write_png(base / c / f"{i:02d}.png", image(rng, size, channels)), k)
                               for k, c in enumerate(classes) for i in range(count)]
    return written


def direct(paths) -> np.ndarray:
    """A direct Pillow read, N×C×H×W."""
    arrs = [np.asarray(Image.open(p)) for p in paths]
    arrs = [a[:, :, None] if a.ndim == 2 else a for a in arrs]
    return np.stack(arrs).transpose(0, 3, 1, 2)


def folder_spec(root, **kw):
    return {"source": "folder", "root": str(root), "image_size": None, "test_size": None,
            "split_seed": 0, **kw}


# --------------------------------------------------------------------- folder
def test_folder_train_test_layout_matches_a_direct_read(tmp_path):
    written = make_folder(tmp_path)
    ds = datasources.load_dataset("imgs", folder_spec(tmp_path))
    assert ds.task == "multi-class" and ds.class_names == list(CLASSES)
    assert ds.train_images.shape == (18, 1, 16, 16) and ds.test_images.shape == (9, 1, 16, 16)
    assert ds.val_images is None
    np.testing.assert_array_equal(ds.train_images, direct([p for p, _ in written["train"]]))
    np.testing.assert_array_equal(ds.test_images, direct([p for p, _ in written["test"]]))
    np.testing.assert_array_equal(ds.train_labels, [k for _, k in written["train"]])
    np.testing.assert_array_equal(ds.test_labels, [0, 0, 0, 1, 1, 1, 2, 2, 2])


def test_folder_val_split_and_binary_rgb(tmp_path):
    make_folder(tmp_path, channels=3, classes=("benign", "malignant"))
    rng = np.random.default_rng(5)
    for c in ("benign", "malignant"):
        write_png(tmp_path / "val" / c / "v.png", image(rng, 16, 3))
    ds = datasources.load_dataset("skin", folder_spec(tmp_path))
    assert ds.task == "binary" and ds.class_names == ["benign", "malignant"]
    assert ds.train_images.shape == (12, 3, 16, 16) and ds.val_images.shape == (2, 3, 16, 16)
    np.testing.assert_array_equal(ds.val_labels, [0, 1])


def test_folder_single_folder_holds_out_test_size(tmp_path):
    written = make_folder(tmp_path, split=False, n=(10, 0))
    paths = [p for p, _ in written["all"]]
    ds = datasources.load_dataset("imgs", folder_spec(tmp_path, test_size=6))
    assert len(ds.train_images) == 24 and len(ds.test_images) == 6
    everything = direct(paths)
    perm = np.random.default_rng(0).permutation(30)  # split_seed 0
    np.testing.assert_array_equal(ds.test_images, everything[np.sort(perm[:6])])
    np.testing.assert_array_equal(ds.train_images, everything[np.sort(perm[6:])])
    np.testing.assert_array_equal(ds.train_labels, np.array([k for _, k in written["all"]])[np.sort(perm[6:])])
    other = datasources.load_dataset("imgs", folder_spec(tmp_path, test_size=6, split_seed=1))
    assert not np.array_equal(other.test_images, ds.test_images)


def test_folder_resizes_to_image_size(tmp_path):
    rng = np.random.default_rng(1)
    paths = []
    for k, c in enumerate(("a", "b")):
        for i, side in enumerate((20, 31, 12)):
            paths.append(write_png(tmp_path / c / f"{i}.png", image(rng, side)))
    ds = datasources.load_dataset("imgs", folder_spec(tmp_path, test_size=2, image_size=16))
    assert ds.train_images.shape == (4, 1, 16, 16)
    resized = np.stack([np.asarray(Image.open(p).resize((16, 16), Image.Resampling.BICUBIC))
                        for p in paths])[:, None]
    both = np.concatenate([ds.train_images, ds.test_images])
    assert sorted(map(bytes, both)) == sorted(map(bytes, resized))


def test_folder_16bit_png_is_scaled(tmp_path):
    rng = np.random.default_rng(2)
    arr16 = rng.integers(0, 65536, (16, 16), dtype=np.uint16)
    for c in ("a", "b"):
        for i in range(2):
            Image.fromarray(arr16).save(write_png(tmp_path / c / f"{i}.png", image(rng)))
    ds = datasources.load_dataset("imgs", folder_spec(tmp_path, test_size=1))
    np.testing.assert_array_equal(ds.train_images[0, 0], np.round(arr16 / 257.0).astype(np.uint8))


def test_folder_jpeg(tmp_path):
    rng = np.random.default_rng(3)
    for c in ("a", "b"):
        for i in range(3):
            (tmp_path / c).mkdir(exist_ok=True)
            Image.fromarray(image(rng, 16, 3)).save(tmp_path / c / f"{i}.jpg", quality=90)
    ds = datasources.load_dataset("imgs", folder_spec(tmp_path, test_size=2))
    assert ds.train_images.shape == (4, 3, 16, 16)
    files = folder_source.folder_files({"source": "folder", "root": str(tmp_path)})
    assert [f.name for f in files] == ["0.jpg", "1.jpg", "2.jpg"] * 2


def one_line_error(fn, *args) -> str:
    with pytest.raises(DataError) as err:
        fn(*args)
    msg = str(err.value)
    assert "\n" not in msg, msg
    return msg


def test_folder_truncated_image_names_the_file(tmp_path):
    written = make_folder(tmp_path)
    bad = written["train"][4][0]
    raw = io.BytesIO()
    Image.fromarray(image(np.random.default_rng(0), 64)).save(raw, "PNG")
    bad.write_bytes(raw.getvalue()[: len(raw.getvalue()) // 2])
    msg = one_line_error(datasources.load_dataset, "imgs", folder_spec(tmp_path))
    assert msg.startswith(f"{bad}: unreadable or truncated image") and "truncated" in msg


def test_folder_unreadable_image_names_the_file(tmp_path):
    written = make_folder(tmp_path)
    bad = written["test"][0][0]
    bad.write_bytes(b"not a png at all")
    msg = one_line_error(datasources.load_dataset, "imgs", folder_spec(tmp_path))
    assert msg.startswith(f"{bad}: unreadable or truncated image (cannot identify image file")


def test_folder_empty_class_folder_names_it(tmp_path):
    make_folder(tmp_path)
    (tmp_path / "train" / "fox").mkdir()
    (tmp_path / "train" / "fox" / "notes.txt").write_text("no images here")
    msg = one_line_error(datasources.load_dataset, "imgs", folder_spec(tmp_path))
    assert msg.startswith(f"{tmp_path / 'train' / 'fox'}: empty class folder")


def test_folder_mixed_channels_names_both_files(tmp_path):
    written = make_folder(tmp_path)
    odd = written["train"][7][0]
    write_png(odd, image(np.random.default_rng(9), 16, 3))
    msg = one_line_error(datasources.load_dataset, "imgs", folder_spec(tmp_path))
    assert msg.startswith(f"{odd} is RGB (3 channels) but {written['train'][0][0]} is grayscale")
    assert "mixed channel counts" in msg


def test_folder_sizes_differ_without_image_size(tmp_path):
    written = make_folder(tmp_path)
    odd = written["train"][2][0]
    write_png(odd, image(np.random.default_rng(9), 20))
    msg = one_line_error(datasources.load_dataset, "imgs", folder_spec(tmp_path))
    assert msg.startswith(f"{odd} is 20×20 pixels") and "datasets.imgs.image_size" in msg


def test_folder_other_layout_errors(tmp_path):
    make_folder(tmp_path / "one", split=False, classes=("only",))
    assert "a single class folder (only)" in one_line_error(
        datasources.load_dataset, "x", folder_spec(tmp_path / "one", test_size=1))
    make_folder(tmp_path / "loose", split=False, classes=("a", "b"))
    stray = write_png(tmp_path / "loose" / "stray.png", image(np.random.default_rng(0)))
    assert one_line_error(datasources.load_dataset, "x", folder_spec(tmp_path / "loose", test_size=1)
                          ).startswith(f"{stray}: an image outside any class folder")
    stray.unlink()
    assert "set datasets.x.test_size" in one_line_error(
        datasources.load_dataset, "x", folder_spec(tmp_path / "loose"))
    (tmp_path / "half" / "train" / "a").mkdir(parents=True)
    assert "has train/ but no test/" in one_line_error(
        datasources.load_dataset, "x", folder_spec(tmp_path / "half"))


def _config(spec, subset_size=10, **al):
    return {"datasets": {"imgs": {**spec, "subset_size": subset_size}}, "strategies": ["random"],
            "out_dir": "results/x",
            "al": {"initial_labels": 3, "labels_per_round": 2, "final_labels": 5, "seeds": [0], **al}}


def test_config_counts_a_folder_before_any_job(tmp_path):
    make_folder(tmp_path)  # 18 training images
    with pytest.raises(ConfigError) as err:
        validate_config(_config({"source": "folder", "root": str(tmp_path)}, subset_size=20))
    assert (f"datasets.imgs.subset_size (20) is larger than the training split of {tmp_path} "
            f"(18 images)") in str(err.value)
    cfg = validate_config(_config({"source": "folder", "root": str(tmp_path)}, subset_size=18))
    assert cfg["datasets"]["imgs"]["image_size"] is None and cfg["datasets"]["imgs"]["split_seed"] == 0
    (tmp_path / "test" / "eel" / "00.png").unlink()
    (tmp_path / "test" / "eel" / "01.png").unlink()
    (tmp_path / "test" / "eel" / "02.png").unlink()
    with pytest.raises(ConfigError, match=rf"datasets.imgs: {tmp_path / 'test' / 'eel'}: empty class"):
        validate_config(_config({"source": "folder", "root": str(tmp_path)}))
    with pytest.raises(ConfigError, match=r"datasets.imgs: .*nowhere: folder not found"):
        validate_config(_config({"source": "folder", "root": str(tmp_path / "nowhere")}))
    with pytest.raises(ConfigError, match=r"datasets.imgs.root: the folder of the images is required"):
        validate_config(_config({"source": "folder"}))
    with pytest.raises(ConfigError, match=r"datasets.imgs.image_size: 4 is less than the minimum of 8"):
        validate_config(_config({"source": "folder", "root": str(tmp_path), "image_size": 4}))


# ------------------------------------------------------------------------ csv
def write_manifest(path: Path, header, rows):
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        w.writerows(rows)
    return path


def make_images(folder: Path, n: int, seed=0, channels=1, size=16) -> list:
    rng = np.random.default_rng(seed)
    return [write_png(folder / f"img{i:03d}.png", image(rng, size, channels)) for i in range(n)]


def test_csv_single_label_with_split_column(tmp_path):
    files = make_images(tmp_path / "images", 12)
    names = ["pneumonia", "normal", "covid"]
    splits = ["train"] * 8 + ["test"] * 3 + ["val"]
    rows = [(f"images/{f.name}", names[i % 3], splits[i]) for i, f in enumerate(files)]
    manifest = write_manifest(tmp_path / "all.csv", ("file", "diagnosis", "fold"), rows)
    spec = {"source": "csv", "path": str(manifest), "path_column": "file", "label_column": "diagnosis",
            "split_column": "fold"}
    ds = datasources.load_dataset("xray", spec)
    assert ds.task == "multi-class" and ds.class_names == ["covid", "normal", "pneumonia"]
    assert ds.train_images.shape == (8, 1, 16, 16) and len(ds.test_images) == 3 and len(ds.val_images) == 1
    np.testing.assert_array_equal(ds.train_images, direct(files[:8]))
    np.testing.assert_array_equal(ds.test_images, direct(files[8:11]))
    index = {"covid": 0, "normal": 1, "pneumonia": 2}
    np.testing.assert_array_equal(ds.train_labels, [index[names[i % 3]] for i in range(8)])
    listed = csv_source.csv_files(spec)
    assert listed[0] == manifest and [p.name for p in listed[1:]] == [f.name for f in files]


def test_csv_integer_labels_and_holdout(tmp_path):
    files = make_images(tmp_path, 10, channels=3)
    rows = [(f.name, [1, 3][i % 2]) for i, f in enumerate(files)]
    manifest = write_manifest(tmp_path / "m.csv", ("path", "label"), rows)
    ds = datasources.load_dataset("m", {"source": "csv", "path": str(manifest), "test_size": 4})
    assert ds.task == "binary" and ds.class_names == ["1", "3"]
    assert ds.train_images.shape == (6, 3, 16, 16) and len(ds.test_images) == 4
    perm = np.random.default_rng(0).permutation(10)
    np.testing.assert_array_equal(ds.test_images, direct([files[i] for i in np.sort(perm[:4])]))
    np.testing.assert_array_equal(ds.test_labels, [i % 2 for i in np.sort(perm[:4])])


def test_csv_multi_label_columns(tmp_path):
    files = make_images(tmp_path / "img", 8)
    labels = np.random.default_rng(4).integers(0, 2, (8, 3))
    rows = [(f"img/{f.name}", *labels[i], "test" if i >= 6 else "train") for i, f in enumerate(files)]
    manifest = write_manifest(tmp_path / "m.csv", ("path", "effusion", "edema", "mass", "split"), rows)
    ds = datasources.load_dataset("chest", {"source": "csv", "path": str(manifest),
                                     "label_column": ["effusion", "edema", "mass"], "split_column": "split"})
    assert ds.task == "multi-label" and ds.class_names == ["effusion", "edema", "mass"]
    np.testing.assert_array_equal(ds.train_labels, labels[:6])
    assert ds.train_labels.dtype == np.uint8 and ds.test_labels.shape == (2, 3)


def test_csv_errors_name_the_file(tmp_path):
    files = make_images(tmp_path, 4)
    m = write_manifest(tmp_path / "m.csv", ("path", "label"),
                       [(f.name, i % 2) for i, f in enumerate(files)] + [("gone.png", 1)])
    msg = one_line_error(datasources.load_dataset, "m", {"source": "csv", "path": str(m), "test_size": 1})
    assert msg.startswith(f"{m} line 6: image {tmp_path / 'gone.png'} does not exist")
    m = write_manifest(tmp_path / "ml.csv", ("path", "a", "b"),
                       [(f.name, 1, 0) for f in files[:2]] + [(files[2].name, 2, 1)])
    msg = one_line_error(datasources.load_dataset, "m", {"source": "csv", "path": str(m), "test_size": 1,
                                                   "label_column": ["a", "b"]})
    assert msg.startswith(f"{m} line 4: label column 'a' holds '2'") and "0 or 1" in msg
    msg = one_line_error(datasources.load_dataset, "m", {"source": "csv", "path": str(m), "test_size": 1,
                                                   "label_column": "diagnosis"})
    assert msg.startswith(f"{m}: no column 'diagnosis' (columns: path, a, b)")
    m = write_manifest(tmp_path / "s.csv", ("path", "label", "split"),
                       [(f.name, i % 2, "train") for i, f in enumerate(files)])
    assert one_line_error(datasources.load_dataset, "m", {"source": "csv", "path": str(m), "split_column": "split"}
                          ) == f"{m}: no test rows in split column 'split'"
    m = write_manifest(tmp_path / "t.csv", ("path", "label", "split"),
                       [(f.name, i % 2, "holdout") for i, f in enumerate(files)])
    assert "line 2: split column 'split' holds 'holdout'" in one_line_error(
        datasources.load_dataset, "m", {"source": "csv", "path": str(m), "split_column": "split"})
    assert one_line_error(datasources.load_dataset, "m", {"source": "csv", "path": str(tmp_path / "no.csv")}
                          ) == f"{tmp_path / 'no.csv'}: manifest not found"


def test_csv_counts_before_any_job(tmp_path):
    files = make_images(tmp_path, 12)
    m = write_manifest(tmp_path / "m.csv", ("path", "label"), [(f.name, i % 2) for i, f in enumerate(files)])
    spec = {"source": "csv", "path": str(m), "test_size": 4}
    with pytest.raises(ConfigError, match=rf"datasets.imgs.subset_size \(9\) is larger than the training "
                                          rf"split of {m} \(8 images\)"):
        validate_config(_config(spec, subset_size=9))
    validate_config(_config(spec, subset_size=8))
    with pytest.raises(ConfigError, match=r"datasets.imgs.label_column: \['only_one'\] is not allowed; expected a string, or a list of at least 2 strings"):
        validate_config(_config({**spec, "label_column": ["only_one"]}))


def test_csv_without_a_split_names_split_column_and_the_column_that_holds_one(tmp_path):
    """A manifest with a `split` column read without split_column: the line says which key
    to set and to what (it used to name only test_size), before any job."""
    files = make_images(tmp_path, 12)
    rows = [(f.name, i % 2, "test" if i < 4 else "train") for i, f in enumerate(files)]
    m = write_manifest(tmp_path / "m.csv", ("path", "label", "split"), rows)
    with pytest.raises(ConfigError) as err:
        validate_config(_config({"source": "csv", "path": str(m)}, subset_size=6))
    assert (f"{m}: no train/test split given; its column 'split' holds train/test values: set "
            f"datasets.imgs.split_column: split, or datasets.imgs.test_size") in str(err.value)
    # with the key set as the line says, the same manifest loads: 8 train, 4 test
    ds = datasources.load_dataset("imgs", {"source": "csv", "path": str(m), "split_column": "split"})
    assert len(ds.train_images) == 8 and len(ds.test_images) == 4
    # no such column: the line names split_column all the same
    m2 = write_manifest(tmp_path / "m2.csv", ("path", "label"), [r[:2] for r in rows])
    msg = one_line_error(csv_source.scan_csv, {"source": "csv", "path": str(m2)}, "datasets.imgs")
    assert "set datasets.imgs.split_column to a column of train / test / val values" in msg


# -------------------------------------------------------------------- CIFAR
def write_cifar(root: Path, kind="cifar10", n_train=(7, 5, 6, 4, 3), n_test=5, seed=0) -> dict:
    """Pickled batches in the layout torchvision reads (cifar-10-batches-py/data_batch_1..5,
    test_batch, batches.meta; cifar-100-python/train, test, meta): rows of 3072 bytes,
    R then G then B planes of 32×32, labels under 'labels' (CIFAR-10) or 'fine_labels'."""
    rng = np.random.default_rng(seed)
    n_classes = 10 if kind == "cifar10" else 100
    folder = root / ("cifar-10-batches-py" if kind == "cifar10" else "cifar-100-python")
    folder.mkdir(parents=True)
    names = [f"class{i}" for i in range(n_classes)]
    out = {"train_data": [], "train_labels": []}

    def dump(name, n):
        rows = rng.integers(0, 256, (n, 3072), dtype=np.uint8)
        labels = rng.integers(0, n_classes, n).tolist()
        if kind == "cifar10":
            entry = {"batch_label": name, "labels": labels, "data": rows, "filenames": [f"{i}.png" for i in range(n)]}
        else:
            entry = {"filenames": [], "batch_label": name, "fine_labels": labels,
                     "coarse_labels": [x // 5 for x in labels], "data": rows}
        with open(folder / name, "wb") as fh:
            pickle.dump(entry, fh, protocol=2)
        return rows, labels

    if kind == "cifar10":
        for i, n in enumerate(n_train, start=1):
            rows, labels = dump(f"data_batch_{i}", n)
            out["train_data"].append(rows)
            out["train_labels"] += labels
        out["test_data"], out["test_labels"] = dump("test_batch", n_test)
        meta = {"num_cases_per_batch": 10000, "label_names": names, "num_vis": 3072}
        meta_name = "batches.meta"
    else:
        rows, out["train_labels"] = dump("train", sum(n_train))
        out["train_data"].append(rows)
        out["test_data"], out["test_labels"] = dump("test", n_test)
        meta = {"fine_label_names": names, "coarse_label_names": [f"super{i}" for i in range(20)]}
        meta_name = "meta"
    with open(folder / meta_name, "wb") as fh:
        pickle.dump(meta, fh, protocol=2)
    out["train_data"] = np.concatenate(out["train_data"])
    out["names"] = names
    return out


@pytest.mark.parametrize("kind", ["cifar10", "cifar100"])
def test_cifar_through_torchvision_matches_a_direct_read(tmp_path, kind):
    from torchvision import datasets

    written = write_cifar(tmp_path, kind)
    spec = {"source": kind, "root": str(tmp_path), "check_md5": False}
    ds = datasources.load_dataset("c", spec)
    assert ds.task == "multi-class" and ds.n_classes == (10 if kind == "cifar10" else 100)
    assert ds.class_names[3] == "class3"
    assert ds.train_images.shape == (25, 3, 32, 32) and ds.test_images.shape == (5, 3, 32, 32)
    # the direct read: row = R, G, B planes of 32×32
    np.testing.assert_array_equal(ds.train_images, written["train_data"].reshape(-1, 3, 32, 32))
    np.testing.assert_array_equal(ds.train_labels, written["train_labels"])
    np.testing.assert_array_equal(ds.test_labels, written["test_labels"])
    # and torchvision's own class (its MD5s taken off: these files are not the real ones)
    tv = tv_source._without_md5(datasets.CIFAR10 if kind == "cifar10" else datasets.CIFAR100)(
        str(tmp_path), train=False)
    np.testing.assert_array_equal(ds.test_images, tv.data.transpose(0, 3, 1, 2))
    files = tv_source.cifar_files(spec)
    expect = ([f"data_batch_{i}" for i in range(1, 6)] + ["test_batch", "batches.meta"]
              if kind == "cifar10" else ["train", "test", "meta"])
    assert [f.name for f in files] == expect and all(f.is_file() for f in files)


def test_cifar_md5_checked_file_by_file(tmp_path):
    write_cifar(tmp_path)
    msg = one_line_error(datasources.load_dataset, "c", {"source": "cifar10", "root": str(tmp_path)})
    assert msg.startswith(f"{tmp_path / 'cifar-10-batches-py' / 'data_batch_1'}: MD5 mismatch "
                          f"(expected c99cafc152244af753f735de768cd75f")
    assert "datasets.c.check_md5: false" in msg


def test_cifar_offline_says_what_to_place_where(tmp_path):
    msg = one_line_error(datasources.load_dataset, "c", {"source": "cifar100", "root": str(tmp_path)})
    assert msg == (f"cifar100: {tmp_path / 'cifar-100-python' / 'train'} not found. Place the extracted "
                   f"folder cifar-100-python/ or the archive cifar-100-python.tar.gz (from "
                   f"https://www.cs.toronto.edu/~kriz/cifar-100-python.tar.gz) in {tmp_path}, or set "
                   f"datasets.c.download: true.")
    msg = one_line_error(datasources.load_dataset, "c", {"source": "cifar10"})
    assert "not found" in msg and "in data/cifar10," in msg


def test_cifar_placed_archive_is_extracted(tmp_path):
    written = write_cifar(tmp_path / "build")
    (tmp_path / "root").mkdir()
    with tarfile.open(tmp_path / "root" / "cifar-10-python.tar.gz", "w:gz") as tar:
        tar.add(tmp_path / "build" / "cifar-10-batches-py", arcname="cifar-10-batches-py")
    ds = datasources.load_dataset("c", {"source": "cifar10", "root": str(tmp_path / "root"), "check_md5": False})
    np.testing.assert_array_equal(ds.train_images, written["train_data"].reshape(-1, 3, 32, 32))
    (tmp_path / "r2").mkdir()
    (tmp_path / "r2" / "cifar-10-python.tar.gz").write_bytes(b"x")
    assert "MD5 mismatch (expected c58f30108f718f92721af3b95e74349a)" in one_line_error(
        datasources.load_dataset, "c", {"source": "cifar10", "root": str(tmp_path / "r2")})


def test_cifar_download_failure_is_one_line(tmp_path, monkeypatch):
    def offline(*a, **k):
        raise OSError("Name or service not known")

    monkeypatch.setattr("torchvision.datasets.cifar.download_and_extract_archive", offline)
    msg = one_line_error(datasources.load_dataset, "c", {"source": "cifar10", "root": str(tmp_path),
                                                   "download": True})
    assert "download failed (Name or service not known). Place the extracted folder" in msg


# --------------------------------------------------------------------- SVHN
def write_svhn(root: Path, n_train=9, n_test=4, seed=0) -> dict:
    """train_32x32.mat / test_32x32.mat as SVHN ships them: X (32, 32, 3, N) uint8,
    y (N, 1) with label 10 for the digit 0."""
    from scipy.io import savemat

    rng = np.random.default_rng(seed)
    out = {}
    root.mkdir(parents=True, exist_ok=True)
    for split, n in (("train", n_train), ("test", n_test)):
        x = rng.integers(0, 256, (32, 32, 3, n), dtype=np.uint8)
        y = np.arange(n).reshape(n, 1) % 10 + 1  # 1..10; 10 is the digit 0
        savemat(root / f"{split}_32x32.mat", {"X": x, "y": y.astype(np.uint8)})
        out[split] = (x, y)
    return out


def test_svhn_through_torchvision_matches_a_direct_read(tmp_path):
    from scipy.io import loadmat

    write_svhn(tmp_path)
    spec = {"source": "svhn", "root": str(tmp_path), "check_md5": False}
    ds = datasources.load_dataset("s", spec)
    assert ds.task == "multi-class" and ds.class_names == [str(i) for i in range(10)]
    assert ds.train_images.shape == (9, 3, 32, 32) and ds.test_images.shape == (4, 3, 32, 32)
    raw = loadmat(tmp_path / "train_32x32.mat")
    np.testing.assert_array_equal(ds.train_images, raw["X"].transpose(3, 2, 0, 1))
    np.testing.assert_array_equal(ds.train_labels, [1, 2, 3, 4, 5, 6, 7, 8, 9])
    np.testing.assert_array_equal(ds.test_labels, [1, 2, 3, 4])
    raw_test = loadmat(tmp_path / "test_32x32.mat")
    assert (np.where(raw_test["y"][:, 0] == 10, 0, raw_test["y"][:, 0]) == ds.test_labels).all()
    write_svhn(tmp_path, n_train=11)  # label 10 appears: it is the digit 0
    assert datasources.load_dataset("s", spec).train_labels[9] == 0
    assert [f.name for f in tv_source.svhn_files(spec)] == ["train_32x32.mat", "test_32x32.mat"]


def test_svhn_errors(tmp_path):
    msg = one_line_error(datasources.load_dataset, "s", {"source": "svhn", "root": str(tmp_path)})
    assert msg == (f"svhn: {tmp_path / 'train_32x32.mat'} not found. Place train_32x32.mat and "
                   f"test_32x32.mat (from http://ufldl.stanford.edu/housenumbers/) in {tmp_path}, "
                   f"or set datasets.s.download: true.")
    write_svhn(tmp_path)
    assert one_line_error(datasources.load_dataset, "s", {"source": "svhn", "root": str(tmp_path)}).startswith(
        f"{tmp_path / 'train_32x32.mat'}: MD5 mismatch (expected e26dedcc434d2e4c54c9b2d4a06d8373")
    (tmp_path / "test_32x32.mat").write_bytes(b"MATLAB 5.0 truncated")
    assert one_line_error(datasources.load_dataset, "s", {"source": "svhn", "root": str(tmp_path),
                                                   "check_md5": False}
                          ).startswith(f"{tmp_path / 'test_32x32.mat'}: cannot read the test split")


# ------------------------------------------------------------------ MedMNIST+
def test_medmnist_plus_size_reads_its_file_and_md5(tmp_path, monkeypatch):
    from medmnist import INFO

    from conftest import medmnist_arrays

    arrays = {k: (np.repeat(np.repeat(v, 4, 1), 4, 2) if k.endswith("images") else v)
              for k, v in medmnist_arrays().items()}  # 112 px stand-in, named _128
    path = tmp_path / "chestmnist_128.npz"
    np.savez(path, **arrays)
    spec = {"source": "medmnist", "flag": "chestmnist", "root": str(tmp_path), "size": 128}
    assert medmnist_source.medmnist_files(spec) == [path]
    msg = one_line_error(datasources.load_dataset, "chest", spec)
    assert msg.startswith(f"{path}: MD5 mismatch (expected {INFO['chestmnist']['MD5_128']}")
    monkeypatch.setitem(INFO["chestmnist"], "MD5_128", data.md5sum(path))
    ds = datasources.load_dataset("chest", spec)
    assert ds.train_images.shape == (60, 1, 112, 112) and ds.task == "multi-label"
    # the 28-px file is another file, with its own MD5
    assert medmnist_source.medmnist_files({**spec, "size": 28}) == [tmp_path / "chestmnist.npz"]


def test_medmnist_size_and_flag_checked_before_any_job():
    spec = {"source": "medmnist", "flag": "pathmnist"}
    with pytest.raises(ConfigError, match=r"datasets.imgs.size: 32 is not one of \[28, 64, 128, 224\]"):
        validate_config(_config({**spec, "size": 32}))
    with pytest.raises(ConfigError, match=r"datasets.imgs.flag: organmnist3d is a 3D MedMNIST dataset"):
        validate_config(_config({"source": "medmnist", "flag": "organmnist3d"}))
    with pytest.raises(ConfigError, match=r"datasets.imgs.flag: unknown MedMNIST flag 'pathmnst'"):
        validate_config(_config({"source": "medmnist", "flag": "pathmnst"}))
    # MedMNIST+ keeps the 28-px splits: the training size is known at every size
    with pytest.raises(ConfigError, match=r"subset_size \(90000\) is larger than the training split of "
                                          r"medmnist/pathmnist \(89996\)"):
        validate_config(_config({**spec, "size": 224}, subset_size=90000))
    with pytest.raises(ConfigError, match=r"task_model.input_size \(28\) is smaller than the 224-px images "
                                          r"of datasets.imgs: .*set task_model.input_size: null \(or 224\)"):
        validate_config(_config({**spec, "size": 224}, subset_size=89996))
    cfg = _config({**spec, "size": 224}, subset_size=89996)
    validate_config({**cfg, "task_model": {"input_size": None}})
    validate_config({**_config({**spec, "size": 64}), "task_model": {"input_size": 64}})


def test_torchvision_sources_checked_before_any_job():
    with pytest.raises(ConfigError, match=r"datasets.imgs.subset_size \(60000\) is larger than the "
                                          r"training split of cifar10 \(50000\)"):
        validate_config(_config({"source": "cifar10"}, subset_size=60000))
    with pytest.raises(ConfigError, match=r"subset_size \(80000\) .* of svhn \(73257\)"):
        validate_config(_config({"source": "svhn"}, subset_size=80000))


# --------------------------------------------------------------------- digest
def _identity(spec, store_dir, **fetch):
    from alvae.data.sourcefiles import DigestStore
    from alvae.data.sources import source_identity

    return source_identity("imgs", {**spec, **fetch}, DigestStore(store_dir))


def test_folder_identity_follows_the_content(tmp_path):
    written = make_folder(tmp_path)
    spec = folder_spec(tmp_path)
    (tmp_path / "unused" / "cat").mkdir(parents=True)  # not train/, test/ or val/: never read
    write_png(tmp_path / "unused" / "cat" / "x.png", image(np.random.default_rng(1)))
    files = folder_source.folder_files(spec)
    assert files == sorted(p for s in written.values() for p, _ in s)
    store = tmp_path / "store"
    before = _identity(spec, store)
    target = written["train"][3][0]
    stat = target.stat()
    os.utime(target, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))  # touched, same bytes
    assert _identity(spec, store) == before
    write_png(target, image(np.random.default_rng(99)))  # replaced
    replaced = _identity(spec, store)
    assert replaced != before
    write_png(tmp_path / "train" / "cat" / "new.png", image(np.random.default_rng(7)))  # added
    assert _identity(spec, store) not in (before, replaced)


def test_an_image_moved_to_another_class_changes_the_identity(tmp_path):
    written = make_folder(tmp_path)
    spec = folder_spec(tmp_path)
    before = _identity(spec, tmp_path / "store")
    src = written["train"][0][0]
    classes = sorted(p.name for p in (tmp_path / "train").iterdir())
    other = next(c for c in classes if c != src.parent.name)
    src.rename(tmp_path / "train" / other / src.name)
    assert _identity(spec, tmp_path / "store") != before


def test_csv_and_torchvision_identities_follow_the_content(tmp_path):
    from alvae.data.loaders import DataError

    files = make_images(tmp_path, 4)
    m = write_manifest(tmp_path / "m.csv", ("path", "label"), [(f.name, i % 2) for i, f in enumerate(files)])
    spec = {"source": "csv", "path": str(m)}
    store = tmp_path / "store"
    before = _identity(spec, store)
    write_png(files[2], image(np.random.default_rng(5)))
    assert _identity(spec, store) != before
    write_svhn(tmp_path / "svhn")
    sv = {"source": "svhn", "root": str(tmp_path / "svhn")}
    before = _identity(sv, store, check_md5=False)
    write_svhn(tmp_path / "svhn", seed=1)
    assert _identity(sv, store, check_md5=False) != before
    # our small files are not the official ones: with check_md5 on, planning stops, naming the key
    with pytest.raises(DataError, match=r"train_32x32.mat: MD5 mismatch .* datasets.imgs.check_md5: false"):
        _identity(sv, store)
    (tmp_path / "svhn" / "test_32x32.mat").unlink()
    with pytest.raises(DataError, match=r"test_32x32.mat not found; place .* or set datasets.imgs.download: true"):
        _identity(sv, store)
    assert _identity(sv, store, download=True).startswith("obtain (svhn via torchvision")
