"""The ``tasks/`` folder the builder writes is read unchanged by the official hpatches-benchmark Python evaluator.

`official_read` transcribes what the official code reads (``python/hpatches_eval.py`` and ``python/utils/tasks.py``
of hpatches-benchmark, see ../shared/docs/hpatches_protocol.md B.2-B.4): ``splits[S]`` from
``tasks/splits/splits.json``, then ``splt['name']`` to find ``verif_{pos,neg_intra,neg_inter}_split-<name>.csv``
and ``retr_{queries,distractors}_split-<name>.csv`` (read with ``pd.read_csv(...).to_numpy()``, columns by
position: ``s1, t1, idx1, s2, t2, idx2`` and ``s, idx``), ``id2t[t]`` for the image ids, ``descr[seq].<type>[idx]``
for the descriptors, and ``splt['test']`` for the matching sequences and the retrieval masks.
"""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from descriptors.data import HPatchesRelease
from descriptors.data.task_writer import splits_json
from hpatches_eval.patch_types import PATCH_TYPES
from hpatches_eval.splits import OFFICIAL_SPLITS_FILE, Split
from hpatches_eval.task_files import TaskFiles

FIXTURE_TASKS = Path(__file__).resolve().parents[1] / "fixtures" / "official-eval" / "tasks"
# utils/tasks.py: image id -> patch file per noise level
ID2T = {0: {"e": "ref", "h": "ref", "t": "ref"}, **{i: {t: f"{t}{i}" for t in "eht"} for i in range(1, 6)}}


class _Descriptors:
    """Stands in for the official ``hpatch_descr``: one attribute per patch type, row ``i`` = ``[i, type id]``."""

    def __init__(self, count):
        for k, patch_type in enumerate(PATCH_TYPES):
            setattr(self, patch_type, np.column_stack([np.arange(count), np.full(count, k)]).astype(float))


def official_read(tasks_dir: Path, split: str, counts: dict) -> dict:
    """Reads a tasks folder exactly as the official evaluator does; returns what it looked up.

    Raises whatever the official code would raise (KeyError, IndexError, FileNotFoundError...).
    """
    descr = {seq: _Descriptors(n) for seq, n in counts.items()}
    with open(tasks_dir / "splits" / "splits.json") as f:  # hpatches_eval.py
        splits = json.load(f)
    splt = splits[split]
    name = splt["name"]
    looked_up = {"name": name, "test": list(splt["test"])}
    for kind in ("pos", "neg_intra", "neg_inter"):  # eval_verification -> get_verif_dists
        pairs = pd.read_csv(tasks_dir / f"verif_{kind}_split-{name}.csv").to_numpy()
        rows = []
        for p in pairs:
            t1, t2 = ID2T[p[1]], ID2T[p[4]]
            for t in "eht":
                d1 = getattr(descr[p[0]], t1[t])[p[2]]
                d2 = getattr(descr[p[3]], t2[t])[p[5]]
                rows.append((d1[0], d2[0]))
            if p[2] < 0 or p[5] < 0:  # numpy would wrap around silently: the official code would read a wrong row
                raise IndexError(f"negative index in {kind}: {p}")
        looked_up[kind] = len(pairs)
    for seq in splt["test"]:  # eval_matching
        for t in "eht":
            for i in range(1, 6):
                assert getattr(descr[seq], t + str(i)).shape == getattr(descr[seq], "ref").shape
    q = pd.read_csv(tasks_dir / f"retr_queries_split-{name}.csv").to_numpy()  # eval_retrieval
    d = pd.read_csv(tasks_dir / f"retr_distractors_split-{name}.csv").to_numpy()
    for idxs in (q, d):  # descr_from_idx
        for i in range(idxs.shape[0]):
            getattr(descr[idxs[i][0]], "ref")[idxs[i][1]]
            if idxs[i][1] < 0:
                raise IndexError(f"negative retrieval index: {idxs[i]}")
    masks = dict((seq, d[:, 0] != seq) for seq in splt["test"])
    for i in range(q.shape[0]):
        masks[q[i][0]]
        for t in "eht":  # get_query_intra_dists
            for k in range(1, 6):
                getattr(descr[q[i][0]], t + str(k))[q[i][1]]
    looked_up.update(queries=len(q), distractors=len(d), pool_left=[int(masks[s].sum()) for s in q[:, 0]])
    return looked_up


def _fixture_counts():
    folder = FIXTURE_TASKS.parent / "descriptors" / "fixture"
    return {p.name: sum(1 for _ in open(p / "ref.csv")) for p in folder.iterdir()}


def test_transcribed_official_loader_reads_the_official_fixture():
    looked_up = official_read(FIXTURE_TASKS, "fx", _fixture_counts())
    assert looked_up["name"] == "fx" and len(looked_up["test"]) == 5
    assert looked_up["pos"] == looked_up["neg_intra"] == looked_up["neg_inter"] == 4000
    assert (looked_up["queries"], looked_up["distractors"]) == (150, 600)


def test_transcribed_official_loader_fails_on_the_old_splits_file(tmp_path):
    """The splits.json we wrote before (no "name" key) crashed the official code: the test must see that."""
    (tmp_path / "splits").mkdir()
    for f in FIXTURE_TASKS.glob("*.csv"):
        (tmp_path / f.name).write_bytes(f.read_bytes())
    (tmp_path / "splits" / "splits.json").write_text(json.dumps({"fx": {"test": ["i_alpha"], "train": []}}))
    with pytest.raises(KeyError, match="name"):
        official_read(tmp_path, "fx", _fixture_counts())


def test_our_tasks_folder_reads_with_the_official_loader(tiny_built):
    out, _ = tiny_built
    info = json.loads((out / "build_info.json").read_text())
    counts = info["tracks_per_sequence"]
    looked_up = official_read(out / "tasks", "tiny", counts)
    assert looked_up["name"] == "tiny" and sorted(looked_up["test"]) == sorted(info["split"]["test"])
    for kind in ("pos", "neg_intra", "neg_inter"):
        assert looked_up[kind] == info["tasks_written"][f"verif_{kind}"] > 0
    assert looked_up["queries"] == info["tasks_written"]["retr_queries"] > 0
    assert looked_up["distractors"] == info["tasks_written"]["retr_distractors"] > 0
    # the sequences the official code evaluates are exactly the patch folders we wrote, with their counts
    release = HPatchesRelease(out / "hpatches-release")
    assert set(looked_up["test"]) <= set(release.sequences)
    assert {s: release.num_patches(s) for s in release.sequences} == counts
    # and our own reader reads the same folder
    tasks = TaskFiles(out / "tasks")
    assert tasks.split("tiny") == Split("tiny", tuple(info["split"]["test"]), tuple(info["split"]["train"]))
    tables, _ = tasks.load_verification("tiny")
    queries, distractors, _ = tasks.load_retrieval("tiny")
    assert len(tables["pos"]) == looked_up["pos"] and len(queries) == looked_up["queries"]
    assert len(distractors) == looked_up["distractors"]


def test_our_tasks_folder_has_the_official_structure(tiny_built):
    out, _ = tiny_built
    ours, official = out / "tasks", FIXTURE_TASKS
    def layout(folder, split):
        return sorted(str(p.relative_to(folder)).replace(f"split-{split}.", "split-S.") for p in folder.rglob("*"))

    assert layout(ours, "tiny") == layout(official, "fx")
    for f in sorted(official.glob("*.csv")):
        mine = ours / f.name.replace("split-fx", "split-tiny")
        official_text, our_text = f.read_bytes(), mine.read_bytes()
        assert our_text.split(b"\n", 1)[0] == official_text.split(b"\n", 1)[0]  # same header, same column order
        assert b"\r" not in our_text and our_text.endswith(b"\n") and official_text.endswith(b"\n")
        assert pd.read_csv(mine).dtypes.to_dict() == pd.read_csv(f).dtypes.to_dict()  # names, integer t/idx
        assert b"." not in b"".join(line.split(b",", 1)[1] for line in our_text.splitlines()[1:])  # no floats
    text = (ours / "splits" / "splits.json").read_text()
    official_splits = OFFICIAL_SPLITS_FILE.read_text()  # byte-identical to hpatches-benchmark's splits.json
    assert text == json.dumps(json.loads(text)) and official_splits == json.dumps(json.loads(official_splits))
    entry = json.loads(text)["tiny"]
    assert list(entry) == list(json.loads(official_splits)["a"]) == ["test", "train", "name"]  # same keys, same order
    assert set(entry) == set(json.loads((official / "splits" / "splits.json").read_text())["fx"])
    assert entry["name"] == "tiny" and all(isinstance(s, str) for s in entry["test"] + entry["train"])


def test_splits_json_text_matches_the_official_file_for_the_official_splits():
    """Written from the official splits, our writer reproduces the official file byte for byte where it has train."""
    official = json.loads(OFFICIAL_SPLITS_FILE.read_text())
    splits = [Split(name, tuple(entry["test"]), tuple(entry["train"])) for name, entry in official.items()
              if "train" in entry]
    expected = json.dumps({s.name: official[s.name] for s in splits})
    assert splits_json(splits) == expected
