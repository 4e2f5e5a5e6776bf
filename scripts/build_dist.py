"""Build what spark-submit needs into `dist/` (`make dist`).

- `dist/stream_scorer-<version>-py3-none-any.whl`: the project, for `pip install` on the
  cluster's Python (or into a venv shipped with `--archives`);
- `dist/stream_scorer.zip`: the package alone, for `--py-files`;
- `dist/entry.py`: the file spark-submit runs;
- `constraints.txt` (the repository's root, committed): every distribution of the venv that
  ran the tests, pinned (`pip freeze`), so a deploy (`pip install -c constraints.txt ...`,
  the docker image) installs what was tested.

The zip carries stream-scorer's code only: executors must already have its dependencies
(pyspark's Python side, pandas, pyarrow, scikit-learn, kafka-python, orjson, crc32c...), from
the cluster's Python, the docker image, or a packed venv (see docker/README.md).
"""

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = "stream_scorer"


def build_wheel(root: Path, out: Path) -> Path:
    """Build the project's wheel (no dependencies) into `out` and return its path.

    Raises
    ------
    SystemExit
        If `pip wheel` fails; its output has been printed.
    """
    cmd = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", str(root), "-w", str(out)]
    if subprocess.run(cmd, check=False).returncode != 0:
        msg = f"error: `{' '.join(cmd)}` failed (see its output above)"
        raise SystemExit(msg)
    return max(out.glob("stream_scorer-*.whl"), key=lambda p: p.stat().st_mtime)


def build_zip(root: Path, out: Path) -> Path:
    """Zip the package's Python files (no caches) for `--py-files`; return the zip's path.

    Entries are sorted and carry a fixed timestamp, so the same sources give the same bytes.
    """
    target = out / f"{PACKAGE}.zip"
    files = sorted(p for p in (root / PACKAGE).rglob("*.py") if "__pycache__" not in p.parts)
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as zf:
        for path in files:
            info = zipfile.ZipInfo(path.relative_to(root).as_posix(), (1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, path.read_bytes())
    return target


def write_constraints(root: Path) -> Path:
    """Pin every distribution of this interpreter's environment but the project itself into
    `root / "constraints.txt"`; return its path.

    Raises
    ------
    SystemExit
        If `pip freeze` fails; its output has been printed.
    """
    cmd = [sys.executable, "-m", "pip", "freeze", "--exclude-editable", "--exclude", "pip"]
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        print(done.stderr, file=sys.stderr)
        msg = f"error: `{' '.join(cmd)}` failed (see its output above)"
        raise SystemExit(msg)
    pins = sorted(
        (line for line in done.stdout.splitlines() if "==" in line and not line.startswith("#")),
        key=str.lower,
    )
    python = ".".join(map(str, sys.version_info[:3]))
    header = (
        "# Written by `make dist` (scripts/build_dist.py) from the venv that ran the tests,\n"
        f"# Python {python}: `pip install -c constraints.txt ...` installs what was tested.\n"
    )
    target = root / "constraints.txt"
    target.write_text(header + "\n".join(pins) + "\n")
    return target


def main() -> int:
    """Build `dist/` and print what was built and the spark-submit line that uses it."""
    out = ROOT / "dist"
    out.mkdir(exist_ok=True)
    wheel = build_wheel(ROOT, out)
    archive = build_zip(ROOT, out)
    entry = Path(shutil.copy2(ROOT / PACKAGE / "entry.py", out / "entry.py"))
    constraints = write_constraints(ROOT)
    for path in (wheel, archive, entry, constraints):
        print(f"built {path.relative_to(ROOT)} ({path.stat().st_size:,} bytes)")
    print(
        "\nrun it on a cluster whose Python has stream-scorer's dependencies installed:\n"
        "  spark-submit --master spark://HOST:7077 \\\n"
        "    --conf spark.pyspark.python=/path/to/python3 \\\n"
        f"    --py-files {archive.relative_to(ROOT)} {entry.relative_to(ROOT)} \\\n"
        "    run --config configs/local.yaml"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
