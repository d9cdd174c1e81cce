"""Cold start of the ``lichain`` command: ``lichain --help`` and ``lichain show LOT`` as whole processes.

Each case is a fresh process (interpreter start, imports, work, exit), run ``--runs`` times after one warm-up run
(the OS page cache warm, as for a person typing commands); the median and the fastest run are reported. Targets:
``--help`` ≤ 0.3 s, ``show`` ≤ 0.5 s on the demo ledger. Baselines, measured in the same run on the same demo
ledger size:

- **issue commit** (3b5034c, the code the cold-start issue was measured on): its ``src/`` extracted with
  ``git archive`` and run from ``PYTHONPATH`` with the same interpreter and libraries, byte-compiled as ours is;
  its ``show`` runs on a demo ledger that same code generated (the schema moved on since).
- **no bytecode**: today's code without the byte-compiled files (``PYTHONPYCACHEPREFIX`` set to an empty folder
  with ``PYTHONDONTWRITEBYTECODE=1``), i.e. an environment installed without ``--compile-bytecode`` where
  ``__pycache__`` cannot be written: every import compiles its source.
- **show through SQLAlchemy**: the same ``show`` with the lot read through the full SQL store (the path every
  ``show`` took before the standard-library SQLite reader, :mod:`lichain.storage.sqlite_read`).
- **eager imports**: ``python -c 'import lichain.entrypoints.cli, <every service>, sqlalchemy, numpy, numba'``,
  what a command paid before the CLI loaded services lazily (an import, no work).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

__all__ = ["main"]

ISSUE_COMMIT = "3b5034c"
EAGER = ("import lichain.entrypoints.cli, lichain.services.query, lichain.services.trace, "
         "lichain.services.footprint, lichain.services.circularity, lichain.services.esg, lichain.storage.sql, "
         "sqlalchemy, numpy, numba")
#: ``lichain show`` with the lot read through the SQL store (SQLAlchemy), as before the SQLite reader.
SQL_SHOW = ("import sys; import lichain.entrypoints.cli as c; c.lot_reader_for = c.store_for; "
            "sys.argv = ['lichain', *sys.argv[1:]]; c.main()")
ROOT = Path(__file__).resolve().parents[1]


def _time(cmd: list[str], env: dict[str, str], cwd: Path, runs: int) -> dict[str, Any]:
    """Median and fastest wall time [s] of ``runs`` runs of ``cmd`` after one warm-up, and the median CPU time
    (user + system) of the process, which other load on a shared machine disturbs far less; it must exit 0."""
    times, cpu = [], []
    for i in range(runs + 1):
        c0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        r = subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, timeout=300)
        dt = time.perf_counter() - t0
        c1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        if r.returncode != 0:
            raise RuntimeError(f"{cmd} exited {r.returncode}: {r.stderr.decode()[-500:]}")
        if i:
            times.append(dt)
            cpu.append(c1.ru_utime - c0.ru_utime + c1.ru_stime - c0.ru_stime)
    return {"median_s": statistics.median(times), "min_s": min(times), "cpu_median_s": statistics.median(cpu),
            "runs": runs}


def _issue_src(tmp: Path, py: str) -> Path | None:
    """The issue commit's ``src/`` extracted and byte-compiled, or None when git or the commit is missing."""
    dest = tmp / "issue"
    dest.mkdir()
    try:
        archive = subprocess.run(["git", "-C", str(ROOT), "archive", ISSUE_COMMIT, "src"], capture_output=True,
                                 check=True).stdout
        subprocess.run(["tar", "-x", "-C", str(dest)], input=archive, check=True)
    except (OSError, subprocess.CalledProcessError):
        return None
    subprocess.run([py, "-m", "compileall", "-q", str(dest / "src")], check=True, capture_output=True)
    return dest / "src"


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Run and print the cold-start benchmark; returns the figures."""
    p = argparse.ArgumentParser()
    p.add_argument("--lots", type=int, default=3000, help="demo ledger size")
    p.add_argument("--runs", type=int, default=15, help="timed runs per case (after one warm-up)")
    p.add_argument("--quick", action="store_true")
    p.add_argument("--out", type=Path, default=None)
    a = p.parse_args(argv)
    runs = 3 if a.quick else a.runs
    lots = min(a.lots, 300) if a.quick else a.lots
    py = sys.executable
    cli = str(Path(py).with_name("lichain"))
    env = {k: v for k, v in os.environ.items() if k not in ("LICHAIN_DB", "PYTHONPATH", "PYTHONPYCACHEPREFIX")}
    env["COLUMNS"] = "120"
    tmp = Path(tempfile.mkdtemp(prefix="lichain-bench-cli-"))
    try:
        subprocess.run([cli, "demo", "--lots", str(lots), "--db", str(tmp / "new.db"), "--json"], env=env,
                       check=True, capture_output=True)
        lot = json.loads(subprocess.run([cli, "lots", "--stage", "cam", "--limit", "1", "--json", "--db",
                                         str(tmp / "new.db")], env=env, check=True, capture_output=True).stdout)[0]
        lot_id = lot["id"]
        nocache = {**env, "PYTHONDONTWRITEBYTECODE": "1", "PYTHONPYCACHEPREFIX": str(tmp / "empty-pycache")}
        show = ["show", lot_id, "--db", str(tmp / "new.db")]
        cases: dict[str, dict[str, Any]] = {
            "help": _time([cli, "--help"], env, tmp, runs),
            "show": _time([cli, *show], env, tmp, runs),
            "help, no bytecode": _time([cli, "--help"], nocache, tmp, runs),
            "show, no bytecode": _time([cli, *show], nocache, tmp, runs),
            "eager imports": _time([py, "-c", EAGER], env, tmp, runs),
            "show through SQLAlchemy": _time([py, "-c", SQL_SHOW, *show], env, tmp, runs),
        }
        old = _issue_src(tmp, py)
        if old is not None:
            run_old = [py, "-c", "from lichain.entrypoints.cli import main; main()"]
            old_env = {**env, "PYTHONPATH": str(old)}
            subprocess.run([*run_old, "demo", "--lots", str(lots), "--db", str(tmp / "old.db"), "--json"],
                           env=old_env, check=True, capture_output=True)
            cases[f"help, {ISSUE_COMMIT}"] = _time([*run_old, "--help"], old_env, tmp, runs)
            cases[f"show, {ISSUE_COMMIT}"] = _time([*run_old, "show", lot_id, "--db", str(tmp / "old.db")],
                                                   old_env, tmp, runs)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    targets = {"help": 0.3, "show": 0.5}
    print(f"CLI cold start, demo ledger of {lots:,} lots, {runs} runs per case, lot {lot_id}; load average "
          f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    print(f"  {'case':<22} {'wall median':>11} {'fastest':>8} {'CPU median':>10}")
    for name, c in cases.items():
        line = f"  {name:<22} {c['median_s']:9.3f} s {c['min_s']:7.3f} s {c['cpu_median_s']:8.3f} s"
        if name in targets:
            ok = "ok" if c["median_s"] <= targets[name] else "MISSED"
            line += f"  target ≤ {targets[name]} s (wall median): {ok}"
        else:  # a baseline: how it compares with our own figure for the same command
            ours = "help" if name.startswith("help") else "show"
            c["ratio_to_ours"] = c["median_s"] / cases[ours]["median_s"]
            c["cpu_ratio_to_ours"] = c["cpu_median_s"] / cases[ours]["cpu_median_s"]
            line += f"  {c['ratio_to_ours']:.2f}× our {ours} (CPU {c['cpu_ratio_to_ours']:.2f}×)"
        print(line)
    result = {"lots": lots, "lot": lot_id, "cases": cases, "targets_s": targets, "python": sys.version.split()[0]}
    if a.out:
        a.out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    return result


if __name__ == "__main__":
    main()
