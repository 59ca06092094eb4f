"""Sources ``cifar10``, ``cifar100`` (fine labels) and ``svhn`` (train and test; no
``extra``): the files torchvision's dataset classes read, read through those classes,
MD5-checked file by file unless ``check_md5`` is false; a placed archive is extracted,
and a download made when allowed."""

from __future__ import annotations

from pathlib import Path
from typing import Mapping

import numpy as np

from ...schema import dataset_defaults
from ..loaders import DataError, Dataset, finish_dataset, md5sum
from ..sourcefiles import SourceFiles
from .base import Source

DEFAULTS = dataset_defaults()  # of a datasets.<name> entry (given partial in library use)


def tv_class(source: str):
    from torchvision import datasets

    return {"cifar10": datasets.CIFAR10, "cifar100": datasets.CIFAR100,
            "svhn": datasets.SVHN}[source]


def _without_md5(cls):
    """The torchvision class with its MD5s removed: ``check_integrity(f, None)`` only
    checks that a file exists (the MD5s are checked here first, naming the file)."""
    if hasattr(cls, "split_list"):
        attrs = {"split_list": {k: [u, f, None] for k, (u, f, _) in cls.split_list.items()}}
    else:
        attrs = {"train_list": [[f, None] for f, _ in cls.train_list],
                 "test_list": [[f, None] for f, _ in cls.test_list],
                 "meta": {**cls.meta, "md5": None}, "tgz_md5": None}
    return type(f"{cls.__name__}WithoutMD5", (cls,), attrs)


def default_root(source: str) -> Path:
    return Path("data") / source


def _root(spec: dict) -> Path:
    return Path(spec.get("root") or default_root(spec["source"]))


def tv_expected(spec: dict) -> list:
    """[(file, md5)] that torchvision's class for a cifar10/cifar100/svhn source reads."""
    cls, root = tv_class(spec["source"]), _root(spec)
    if spec["source"] == "svhn":
        return [(root / cls.split_list[s][1], cls.split_list[s][2]) for s in ("train", "test")]
    folder = root / cls.base_folder
    return ([(folder / f, md5) for f, md5 in cls.train_list + cls.test_list]
            + [(folder / cls.meta["filename"], cls.meta["md5"])])


def where_from(source: str, cls) -> str:
    if source == "svhn":
        return (f"train_32x32.mat and test_32x32.mat (from "
                f"{cls.split_list['train'][0].rsplit('/', 1)[0]}/)")
    return f"the extracted folder {cls.base_folder}/ or the archive {cls.filename} (from {cls.url})"


def _obtain(spec: dict, name: str) -> None:
    """Make the files of a torchvision source present: extract a placed archive, or
    download when allowed; else one line saying what to place where."""
    source, root = spec["source"], _root(spec)
    cls = tv_class(source)
    missing = [f for f, _ in tv_expected(spec) if not f.is_file()]
    if not missing:
        return
    check = spec.get("check_md5", DEFAULTS["check_md5"])
    archive = root / cls.filename if hasattr(cls, "filename") and source != "svhn" else None
    if archive is not None and archive.is_file():
        from torchvision.datasets.utils import extract_archive

        if check and md5sum(archive) != cls.tgz_md5:
            raise DataError(f"{archive}: MD5 mismatch (expected {cls.tgz_md5}): the archive is "
                            f"corrupt or another version; download it again, or set "
                            f"datasets.{name}.check_md5: false to use it anyway")
        try:
            extract_archive(str(archive), str(root))
        except Exception as exc:
            raise DataError(f"{archive}: cannot extract the archive ({exc}); download it again") from None
    elif spec.get("download", DEFAULTS["download"]):
        getter = cls if check else _without_md5(cls)
        try:
            if source == "svhn":
                for s in ("train", "test"):
                    getter(str(root), split=s, download=True)
            else:
                getter(str(root), train=True, download=True)
        except Exception as exc:  # offline, proxy, checksum ...
            reason = str(exc).strip().splitlines()[-1] if str(exc).strip() else type(exc).__name__
            raise DataError(f"{source}: {missing[0]} is missing and the download failed ({reason}). "
                            f"Place {where_from(source, cls)} in {root} and run again.") from None
    else:
        raise DataError(f"{source}: {missing[0]} not found. Place {where_from(source, cls)} in "
                        f"{root}, or set datasets.{name}.download: true.")
    missing = [f for f, _ in tv_expected(spec) if not f.is_file()]
    if missing:
        raise DataError(f"{source}: {missing[0]} is still missing after extracting or downloading; "
                        f"place {where_from(source, cls)} in {root}")


def load_torchvision(name: str, spec: dict) -> Dataset:
    """CIFAR-10, CIFAR-100 (fine labels) or SVHN (train and test; no ``extra``) through
    torchvision's dataset classes, MD5-checked file by file unless ``check_md5`` is false."""
    source, root = spec["source"], _root(spec)
    cls = tv_class(source)
    from ...io import file_lock

    with file_lock(root / ".alvae-download"):  # the pool and evaluation jobs may start together
        _obtain(spec, name)
    if spec.get("check_md5", DEFAULTS["check_md5"]):
        for f, md5 in tv_expected(spec):
            actual = md5sum(f)
            if actual != md5:
                raise DataError(f"{f}: MD5 mismatch (expected {md5}, got {actual}): the file is "
                                f"corrupt or another version; replace it, or set "
                                f"datasets.{name}.check_md5: false to use it anyway")
    reader = _without_md5(cls)
    arrays = {}
    for split in ("train", "test"):
        where = (root / cls.split_list[split][1]) if source == "svhn" else (root / cls.base_folder)
        try:
            ds = (reader(str(root), split=split) if source == "svhn"
                  else reader(str(root), train=split == "train"))
        except Exception as exc:
            reason = str(exc).strip() or type(exc).__name__
            raise DataError(f"{where}: cannot read the {split} split ({reason}); replace the "
                            f"file(s) with a fresh copy") from None
        if source == "svhn":
            arrays[f"{split}_images"], arrays[f"{split}_labels"] = ds.data, ds.labels
            classes = [str(i) for i in range(10)]
        else:  # N×32×32×3 (HWC), as torchvision keeps it
            arrays[f"{split}_images"], arrays[f"{split}_labels"] = ds.data, np.asarray(ds.targets)
            classes = list(ds.classes)
    return finish_dataset(name, "multi-class", classes, arrays, str(root), [root])


def cifar_files(spec: dict) -> list:
    """The pickled batches and the meta file of a cifar10/cifar100 source."""
    return [f for f, _ in tv_expected(spec)]


def svhn_files(spec: dict) -> list:
    """train_32x32.mat and test_32x32.mat of an svhn source."""
    return [f for f, _ in tv_expected(spec)]


def torchvision_files(spec: Mapping) -> SourceFiles:
    """cifar10, cifar100, svhn: the batches or .mat files torchvision's class reads; when
    missing, a placed archive to extract, or a download."""
    expected = tv_expected(dict(spec))
    root = default_root(spec["source"]) if not spec.get("root") else Path(spec["root"])
    if all(Path(f).is_file() for f, _ in expected):
        return SourceFiles(present=tuple(f for f, _ in expected), root=root, base=root,
                           expected_md5=tuple((Path(f), md5) for f, md5 in expected if md5))
    planned = f"{spec['source']} via torchvision: " + " ".join(f"{Path(f).name}:{md5}" for f, md5 in expected)
    cls = tv_class(spec["source"])
    archive = root / cls.filename if hasattr(cls, "filename") and spec["source"] != "svhn" else None
    if archive is not None and archive.is_file():  # placed by hand: the job extracts it
        return SourceFiles(planned=planned, root=root, needs_download=False)
    first = next(f for f, _ in expected if not Path(f).is_file())
    return SourceFiles(planned=planned, root=root,
                       missing=f"{first} not found; place {where_from(spec['source'], cls)} "
                               f"in {root}")


class Torchvision(Source):
    """One of torchvision's dataset classes (``cifar10``, ``cifar100``, ``svhn``): 32×32
    RGB images."""

    side = 32

    def __init__(self, train_size: int):
        self.train_size = train_size  # (the test split's size is not checked before loading)

    def load(self, name: str, spec: dict) -> Dataset:
        return load_torchvision(name, spec)

    def files(self, spec: Mapping) -> SourceFiles:
        return torchvision_files(spec)


CIFAR10 = Torchvision(50000)
CIFAR100 = Torchvision(50000)
SVHN = Torchvision(73257)  # train_32x32.mat (the `extra` split is not read)
