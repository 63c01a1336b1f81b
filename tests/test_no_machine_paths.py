"""No absolute path of a particular machine in the repository: data locations come from flags, environment
variables or paths relative to the repository (notebook outputs included)."""

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# Home folders and this project's build machines; a path inside a string, a command or a stored output.
MACHINE_PATH = re.compile(r"(?<![\w.~$])/(?:root|home/[\w.-]+|Users/[\w.-]+|work|mnt/[\w.-]+)/[\w.-]")
SKIP_SUFFIXES = {".png", ".jpg", ".jpeg", ".ppm", ".bmp", ".keras", ".npy", ".npz", ".gz", ".zip", ".pdf"}


def _repository_files() -> list[Path]:
    try:
        listed = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout
        return [ROOT / name for name in listed.decode().split("\0") if name]
    except (OSError, subprocess.CalledProcessError):  # an unpacked source tree without git
        skip = {".git", ".venv", "runs", "mutants", "__pycache__", ".pytest_cache"}
        return [p for p in ROOT.rglob("*") if p.is_file() and not skip & set(p.relative_to(ROOT).parts)]


def test_no_file_names_an_absolute_machine_path():
    offenders = []
    for path in _repository_files():
        if path.suffix.lower() in SKIP_SUFFIXES or path == Path(__file__).resolve() or not path.is_file():
            continue
        text = path.read_bytes()[:5_000_000].decode("utf-8", errors="ignore")
        for number, line in enumerate(text.splitlines(), start=1):
            if MACHINE_PATH.search(line):
                offenders.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()[:120]}")
    assert not offenders, "\n".join(offenders)


def test_the_pattern_finds_machine_paths_and_spares_relative_ones():
    hits = ["/root/.cache/x", '"/home/alice/data"', "/work/main/.venv/lib", "cd /Users/bob/hp", "/mnt/data/hp"]
    misses = ["~/.cache/descriptors", "../shared/data", "$HOME/.cache/x", "runs/coursework/pipeline", "a/root/b",
              "https://github.com/x/y/tree/main/work/z"]
    assert [bool(MACHINE_PATH.search(s)) for s in hits] == [True] * len(hits)
    assert [bool(MACHINE_PATH.search(s)) for s in misses] == [False] * len(misses)
