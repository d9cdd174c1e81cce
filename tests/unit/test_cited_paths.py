"""Every repository path cited in code, tests and docs resolves in a clone of the repository."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# a repository-relative path: a top-level folder of ours, then path segments, ending in a file extension
CITED = re.compile(r"(?<![\w/.-])((?:docs|src|tests|benchmarks|scripts)/[\w./-]*\.(?:md|csv|py|jsonld|json|sh|toml))(?![\w])")
SCANNED = ("src", "docs", "tests", "benchmarks", "scripts")


def _cited() -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    files = [ROOT / "README.md"] + [p for d in SCANNED for p in (ROOT / d).rglob("*")
                                   if p.suffix in {".py", ".md", ".sh", ".toml"} and p.is_file()
                                   and "reference" not in p.parts]  # the reference cites other repositories
    for f in files:
        for m in CITED.finditer(f.read_text(encoding="utf-8", errors="replace")):
            found.setdefault(m.group(1).rstrip("."), []).append(str(f.relative_to(ROOT)))
    return found


def test_the_scan_finds_the_reference_citations() -> None:
    cited = _cited()
    assert "docs/reference/regulation-and-factors.md" in cited
    assert len(cited["docs/reference/regulation-and-factors.md"]) >= 10


def test_every_cited_path_exists() -> None:
    missing = {p: where for p, where in _cited().items() if not (ROOT / p).exists()}
    assert missing == {}
