"""`python -m descriptors.embed retrieve`: the CSV equals a brute-force identification with the same embedder,
labelled and flat query folders, the automatic threshold, and MAP@5 as printed."""

import csv

import cv2
import keras
import numpy as np
import pytest

from descriptors import embed
from descriptors.embeddings.backbones import build_backbone
from descriptors.embeddings.gallery import NEW_IDENTITY, map_at_k


def _write_folder(root, images_by_identity):
    for identity, images in images_by_identity.items():
        (root / identity).mkdir(parents=True)
        for i, image in enumerate(images):
            cv2.imwrite(str(root / identity / f"{identity}_{i}.png"), image)


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    root = tmp_path_factory.mktemp("retrieve")
    rng = np.random.default_rng(0)
    bases = {f"id{k}": rng.integers(0, 256, (20, 20), dtype=np.uint8) for k in range(6)}
    noisy = {k: [np.clip(b + rng.normal(0, 12, b.shape), 0, 255).astype(np.uint8) for _ in range(4)]
             for k, b in bases.items()}
    _write_folder(root / "gallery", {k: v[:3] for k, v in noisy.items() if k != "id5"})  # id5: never seen
    _write_folder(root / "queries", {k: v[3:] for k, v in noisy.items()})
    keras.utils.set_random_seed(0)
    model = build_backbone("tfeat", (20, 20, 1), 8, filters=(8, 16))
    model.save(root / "embedder.keras")
    return root, model


def _read(path):
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))


def test_answers_equal_brute_force_and_map_is_printed(setup, capsys):
    root, model = setup
    out = root / "answers.csv"
    status = embed.main(["retrieve", "--model", str(root / "embedder.keras"), "--gallery", str(root / "gallery"),
                         "--queries", str(root / "queries"), "--out", str(out), "--top-k", "3",
                         "--new-identity-threshold", "0.5"])
    assert status == 0
    rows = _read(out)
    assert [r["query"] for r in rows] == [f"id{k}/id{k}_0.png" for k in range(6)]
    assert rows[5]["truth"] == NEW_IDENTITY and rows[0]["truth"] == "id0"

    def codes(folder, names):
        images = np.stack([cv2.imread(str(folder / n), cv2.IMREAD_GRAYSCALE) for n in names])[..., None]
        return keras.ops.convert_to_numpy(model(images.astype(np.float32)))

    gallery_names = [f"id{k}/id{k}_{i}.png" for k in range(5) for i in range(3)]
    gallery_codes = codes(root / "gallery", gallery_names)
    query_codes = codes(root / "queries", [r["query"] for r in rows])
    answers = []
    for q in query_codes:
        d = np.linalg.norm(gallery_codes - q, axis=1)
        answer = []
        for index in np.argsort(d, kind="stable"):
            if NEW_IDENTITY not in answer and d[index] > 0.5:
                answer.append(NEW_IDENTITY)
            identity = gallery_names[index].split("/")[0]
            if len(answer) < 3 and identity not in answer:
                answer.append(identity)
            if len(answer) == 3:
                break
        answers.append(answer)
    assert [r["answers"].split() for r in rows] == answers
    expected_map = map_at_k(answers, [r["truth"] for r in rows], 3)
    assert f"MAP@3 {expected_map:.4f}" in capsys.readouterr().out


def test_flat_queries_and_auto_threshold(setup, tmp_path, capsys):
    root, _ = setup
    flat = tmp_path / "flat"
    flat.mkdir()
    for name in ("a.png", "b.png"):
        (flat / name).write_bytes((root / "queries" / "id1" / "id1_0.png").read_bytes())
    out = tmp_path / "flat.csv"
    assert embed.main(["retrieve", "--model", str(root / "embedder.keras"), "--gallery", str(root / "gallery"),
                       "--queries", str(flat), "--out", str(out), "--new-identity-threshold", "auto"]) == 0
    rows = _read(out)
    assert [r["query"] for r in rows] == ["a.png", "b.png"] and "truth" not in rows[0]
    assert rows[0]["answers"] == rows[1]["answers"] and len(rows[0]["answers"].split()) == 5
    printed = capsys.readouterr().out
    assert "new-identity threshold (auto, leave-one-out MAP@5 on the gallery" in printed
    assert not any(line.startswith("MAP@") for line in printed.splitlines())  # unlabelled queries: no score
