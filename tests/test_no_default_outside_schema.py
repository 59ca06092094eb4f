"""The config schema (src/alvae/config.schema.yaml) is the one place a default is written:
no ``.get("<key>", <literal>)`` in the library or the workflow's scripts repeats one.

A config that went through the schema has every default filled in, so a config key is
read plainly (``cfg["epochs"]``); where a library function may get a partial section,
the default comes from the schema (``alvae.schema.defaults`` / ``with_defaults`` /
``dataset_defaults`` / ``range_defaults``). A ``.get`` with a literal fallback on
something that is not config (a log record, a JSON file, Snakemake's resources, a node
of the schema itself) stays, marked with a trailing ``# not config``."""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SCANNED = ("src/alvae", "workflow/scripts")
MARK = "# not config"

# .get("key", <literal>): a number, a string, a list, a dict, a tuple, True/False/None
# (either quote; the call may span lines)
GET_WITH_LITERAL = re.compile(
    r"""\.get\(\s*(["'])(?P<key>[A-Za-z0-9_]+)\1\s*,\s*(?:[-0-9"'\[{(]|True\b|False\b|None\b)""")

def _hits():
    """(file, line number, key, line, marked) of every .get with a literal fallback."""
    for folder in SCANNED:
        for path in sorted((REPO / folder).rglob("*.py")):
            text = path.read_text()
            lines = text.splitlines()
            rel = path.relative_to(REPO).as_posix()
            for m in GET_WITH_LITERAL.finditer(text):
                n = text.count("\n", 0, m.start())
                yield rel, n + 1, m["key"], lines[n], MARK in lines[n]


def test_the_scan_sees_the_marked_lines():
    marked = [h for h in _hits() if h[4]]
    assert len(marked) > 0, "the scan found no line marked '# not config': it reads nothing"


def test_no_default_outside_the_schema():
    bad = []
    for rel, n, key, line, marked in _hits():
        if marked:
            continue
        bad.append(f"{rel}:{n}: {line.strip()}")
    assert not bad, ("a config default written outside the schema (read the key plainly, or "
                     "take the default from alvae.schema; mark a read of something that is "
                     "not config '# not config'):\n" + "\n".join(bad))
