"""Source ``medmnist``: a 2D MedMNIST(+) dataset (``flag``) from ``{root}/{flag}.npz``
(``{flag}_{size}.npz`` at 64, 128 and 224 px), checked against the MD5 in medmnist's
INFO, downloaded when missing and allowed."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Mapping, Optional

from ...schema import dataset_defaults
from ..loaders import DataError, Dataset, finish_dataset, md5sum, read_npz, require_keys
from ..sourcefiles import SourceFiles
from .base import Source

DEFAULTS = dataset_defaults()  # of a datasets.<name> entry (given partial in library use)

MEDMNIST_SIZES = (28, 64, 128, 224)
# Training-split sizes at 28 px when medmnist's INFO cannot be read (it is read at run time;
# ChestMNIST is listed so that the thesis config is checked before anything downloads).
MEDMNIST_TRAIN_SIZES = {"chestmnist": 78468}


def medmnist_info(flag: str) -> dict:
    try:
        from medmnist import INFO
    except ImportError:
        raise DataError("source medmnist needs the `medmnist` package (pip install medmnist)") from None
    if flag not in INFO:
        raise DataError(f"unknown MedMNIST flag {flag!r}; known: {', '.join(sorted(INFO))}")
    return INFO[flag]


def medmnist_task(info_task: str) -> str:
    if info_task.startswith("multi-label"):
        return "multi-label"
    if info_task.startswith("binary"):
        return "binary"
    return "multi-class"  # multi-class and ordinal-regression


def load_medmnist(flag: str, root: str | Path = "data/medmnist", size: int = 28,
                  download: bool = False, check_md5: bool = True, url: str | None = None) -> Dataset:
    """A 2D MedMNIST dataset from ``{root}/{flag}.npz`` (``{flag}_{size}.npz`` for
    other sizes), verified against the MD5 in medmnist's INFO, downloaded (from
    ``url``, by default medmnist's own address) when missing and allowed."""
    info = medmnist_info(flag)
    suffix = "" if size == 28 else f"_{size}"
    root = Path(root)
    path = root / f"{flag}{suffix}.npz"
    md5 = info.get(f"MD5{suffix}")
    url = url or info.get(f"url{suffix}")
    if not path.is_file():
        if not download:
            raise DataError(
                f"{path}: file not found. Place {path.name} from MedMNIST (url: {url}) in {root}, "
                f"or set download: true."
            )
        try:
            from torchvision.datasets.utils import download_url

            from ...io import file_lock

            with file_lock(root / ".alvae-download"):  # the pool and evaluation jobs may start together
                if not path.is_file():  # into a temporary name: a killed download leaves no partial npz
                    part = root / f".{path.name}.part"
                    print(f"downloading {url} -> {path}", file=sys.stderr, flush=True)
                    try:
                        download_url(url, str(root), filename=part.name)
                        got = md5sum(part) if check_md5 and md5 else None
                        if got is not None and got != md5:  # said here, not as "corrupted"
                            raise DataError(
                                f"{path}: the file downloaded from {url} fails its MD5 check (expected "
                                f"{md5}, got {got}): another version of the file, or a broken mirror. "
                                f"Set check_md5: false for this dataset to use it anyway.")
                        os.replace(part, path)
                    finally:
                        part.unlink(missing_ok=True)
        except DataError:
            raise
        except Exception as exc:
            raise DataError(
                f"{path}: download from {url} failed ({exc}). Place {path.name} in {root} and run again."
            ) from None
    if check_md5 and md5:
        actual = md5sum(path)
        if actual != md5:
            raise DataError(
                f"{path}: MD5 mismatch (expected {md5}, got {actual}): the file is corrupt or another "
                f"version. Download it again, or set check_md5: false to use it anyway."
            )
    arrays = read_npz(path)
    require_keys(arrays, path)
    task = medmnist_task(info["task"])
    names = [info["label"][str(i)] for i in range(len(info["label"]))]
    if task == "binary" and len(names) < 2:
        names = names + ["other"]
    return finish_dataset(flag, task, names, arrays, str(path), [path])


def medmnist_file(spec: Mapping) -> tuple[Path, Optional[str], Optional[str]]:
    """The npz of a MedMNIST flag at ``size``, its official MD5 and URL (``url`` overrides
    the address, not the expected content)."""
    info = medmnist_info(spec["flag"])
    size = spec.get("size", DEFAULTS["size"])
    suffix = "" if size == 28 else f"_{size}"
    root = Path(spec.get("root") or "data/medmnist")
    url = spec.get("url") or info.get(f"url{suffix}")
    return root / f"{spec['flag']}{suffix}.npz", info.get(f"MD5{suffix}"), url


def _medmnist_files(spec: Mapping) -> SourceFiles:
    path, md5, url = medmnist_file(spec)
    if path.is_file():
        return SourceFiles(present=(path,), root=path.parent, base=path.parent,
                           expected_md5=((path, md5),) if md5 else ())
    return SourceFiles(planned=f"medmnist {path.name} md5:{md5}", root=path.parent,
                       missing=f"{path}: file not found; place {path.name} from MedMNIST "
                               f"(url: {url}) in {path.parent}")


def medmnist_path(spec: dict) -> Path:
    size = spec.get("size") or DEFAULTS["size"]
    suffix = "" if size == 28 else f"_{size}"
    return Path(spec.get("root") or "data/medmnist") / f"{spec['flag']}{suffix}.npz"


def medmnist_files(spec: dict) -> list:
    """The one ``.npz`` a medmnist source reads: ``{flag}.npz`` at 28 px,
    ``{flag}_{size}.npz`` at 64, 128 and 224 px."""
    return [medmnist_path(spec)]


class MedMNIST(Source):
    def load(self, name: str, spec: dict) -> Dataset:
        spec = {**DEFAULTS, **spec}
        return load_medmnist(spec["flag"], spec["root"] or "data/medmnist", spec["size"],
                             spec["download"], spec["check_md5"], spec["url"])

    def files(self, spec: Mapping) -> SourceFiles:
        return _medmnist_files(spec)

    def known_train_size(self, spec: Mapping) -> int | None:
        flag = spec.get("flag")  # MedMNIST+ keeps the 28-px splits at every size
        try:
            from medmnist import INFO  # noqa: PLC0415

            return int(INFO[flag]["n_samples"]["train"])
        except Exception:
            return MEDMNIST_TRAIN_SIZES.get(flag)

    def known_test_size(self, spec: Mapping) -> int | None:
        try:
            from medmnist import INFO  # noqa: PLC0415

            return int(INFO[spec.get("flag")]["n_samples"]["test"])
        except Exception:
            return None

    def image_side(self, spec: Mapping) -> int | None:
        return spec.get("size") or DEFAULTS["size"]

    def problems(self, key: str, spec: Mapping) -> list[str]:
        """The flag: given, a 2D dataset medmnist knows, with a file at ``size``."""
        if not spec.get("flag"):
            return [f"{key}.flag: a MedMNIST flag such as 'chestmnist' is required"]
        problems = []
        try:
            from medmnist import INFO
        except ImportError:
            return problems
        info = INFO.get(spec["flag"])
        if info is None:
            problems.append(f"{key}.flag: unknown MedMNIST flag {spec['flag']!r}; known 2D flags: "
                            f"{', '.join(f for f in INFO if not f.endswith('3d'))}")
        elif info["python_class"].endswith("3D"):
            problems.append(f"{key}.flag: {spec['flag']} is a 3D MedMNIST dataset; alvae takes "
                            f"2D images")
        else:
            size = spec.get("size", DEFAULTS["size"])
            suffix = "" if size == 28 else f"_{size}"
            if f"MD5{suffix}" not in info or f"url{suffix}" not in info:
                problems.append(f"{key}.size: medmnist's INFO has no {size}-px file of "
                                f"{spec['flag']}")
        return problems


SOURCE = MedMNIST()
