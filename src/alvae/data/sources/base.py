"""What a data source is: :class:`Source`, the one object a ``datasets.<name>.source``
value names (``alvae.data.sources.SOURCES``). Everything alvae knows about a source lives
in its own module as a subclass of :class:`Source`: how to load it, the files it reads,
its known split sizes, the side of its images and the checks of its options."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Mapping

if TYPE_CHECKING:
    from ..loaders import Dataset
    from ..sourcefiles import SourceFiles


class Source:
    """One data source. A subclass overrides :meth:`load` and whatever else applies; the
    defaults describe a source that reads no file of its own, knows no split size, has no
    fixed image side, no options to check and brings its own train and test splits.

    Class attributes, for what does not depend on the ``datasets.<name>`` entry:
    ``train_size`` and ``test_size`` (the official splits' sizes, or None when only known
    once loaded), ``side`` (the side of the square images, or None), ``keys`` (the
    ``datasets.<name>`` keys beyond ``source``, ``root``, ``path``, ``flag``, ``size``,
    ``subset_size``, ``subset_seed`` that decide what :meth:`load` returns: a changed
    value reruns the pool).
    """

    train_size: int | None = None
    test_size: int | None = None
    side: int | None = None
    keys: tuple = ()

    def load(self, name: str, spec: dict) -> Dataset:
        """The dataset of one ``datasets.<name>`` entry (its fetch keys included:
        ``download``, ``check_md5``, ``url``). Problems raise
        :class:`alvae.data.loaders.DataError` with one line naming the file and what to do."""
        raise NotImplementedError

    def files(self, spec: Mapping) -> SourceFiles:
        """The files :meth:`load` reads, for the content digest that makes a changed file
        rerun the pool (or how a job would obtain them; :mod:`alvae.data.sourcefiles`).
        By default the source's own module: a source that generates its data reruns the
        pool when its code changes."""
        import sys

        from ..sourcefiles import SourceFiles

        return SourceFiles(present=(Path(sys.modules[type(self).__module__].__file__),))

    def problems(self, key: str, spec: Mapping) -> list[str]:
        """Problems of the entry ``key`` (``datasets.<name>``) found before any job, one
        line each naming the key: a required option missing, a folder that cannot work, a
        subset larger than a split it counts. Empty when none."""
        return []

    def known_train_size(self, spec: Mapping) -> int | None:
        """The training split's size when known without loading (else None)."""
        return self.train_size

    def known_test_size(self, spec: Mapping) -> int | None:
        """The test split's size when known without loading (else None)."""
        return self.test_size

    def image_side(self, spec: Mapping) -> int | None:
        """The side of the source's square images when the config fixes it, else None."""
        return self.side

    def self_split(self, spec: Mapping) -> bool:
        """Whether the source draws its own test split (``test_size`` images,
        ``split_seed``) instead of reading one."""
        return False

    def source_keys(self, spec: Mapping) -> tuple:
        """The ``datasets.<name>`` keys (see ``keys``) that decide what :meth:`load`
        returns for this entry."""
        return self.keys

