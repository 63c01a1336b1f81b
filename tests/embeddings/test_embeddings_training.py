"""The embedding run: training improves kNN F1 on digits, resume, CLI exit codes, config checks, t-SNE plot."""

import json

import keras
import numpy as np
import pytest

from descriptors import embed
from descriptors.embeddings import trainer as trainer_module
from descriptors.embeddings.backbones import build_backbone
from descriptors.embeddings.config import EmbedConfig
from descriptors.embeddings.images import LabelledImages
from descriptors.embeddings.plots import tsne_figure
from descriptors.embeddings.trainer import evaluate_model, load_data, split_data, train_embedding
from descriptors.errors import ConfigError

TINY = {"backbone": "tfeat", "backbone_options": {"filters": [8, 16]}, "image_size": 20, "embedding_dim": 16,
        "knn_k": 1, "augment": "none", "verbose": 0}


def test_short_training_improves_knn_f1_over_the_untrained_model(tmp_path):
    config = EmbedConfig(**TINY, epochs=2, batches_per_epoch=15, val_batches=2, max_images=800,
                         output_dir=str(tmp_path / "run"))
    _, _, test = split_data(load_data(config), config)
    keras.utils.set_random_seed(config.seed)
    untrained = evaluate_model(build_backbone("tfeat", (20, 20, 1), 16, filters=(8, 16)), test, config)
    result = train_embedding(config)
    assert result.metrics["knn_f1"] > untrained["knn_f1"] + 0.02
    assert result.metrics["map@20"] > untrained["map@20"] + 0.1
    saved = json.loads((result.run_dir / "metrics.json").read_text())
    assert saved == pytest.approx(result.metrics)
    assert json.loads((result.run_dir / "config.json").read_text())["backbone_options"] == {"filters": [8, 16]}
    assert len((result.run_dir / "embedder_log.csv").read_text().splitlines()) == 3  # header + 2 epochs
    assert isinstance(keras.saving.load_model(result.run_dir / "embedder.keras"), type(result.model))


def test_interrupted_run_resumes_after_the_last_checkpoint(tmp_path, monkeypatch):
    config = EmbedConfig(**TINY, epochs=2, batches_per_epoch=3, val_batches=1, max_images=200, loss="triplet_margin",
                         output_dir=str(tmp_path / "run"))
    real_make_stage = trainer_module.make_stage

    def interrupted(*args):
        stage = real_make_stage(*args)
        train_batches = stage.train_batches

        def batches(epoch):
            if epoch == 1:
                raise KeyboardInterrupt
            return train_batches(epoch)

        stage.train_batches = batches
        return stage

    monkeypatch.setattr(trainer_module, "make_stage", interrupted)
    with pytest.raises(KeyboardInterrupt):
        train_embedding(config)
    state = json.loads((tmp_path / "run" / "state.json").read_text())
    assert state["embedder"]["epochs_done"] == 1
    monkeypatch.setattr(trainer_module, "make_stage", real_make_stage)
    with pytest.raises(ConfigError, match="already holds a run: pass --resume"):
        train_embedding(config)
    with pytest.raises(ConfigError, match=r"Cannot resume .* different options \['epochs'\]"):
        train_embedding(config.replace(resume=True, epochs=3))
    result = train_embedding(config.replace(resume=True))
    state = json.loads((tmp_path / "run" / "state.json").read_text())
    assert state["embedder"]["epochs_done"] == 2 and state["embedder"]["done"]
    assert sorted(p.name for p in (tmp_path / "run" / "checkpoints").iterdir()) == ["embedder-epoch2.keras"]
    assert 0.0 <= result.metrics["knn_f1"] <= 1.0

    # The resumed run is the uninterrupted run, bit for bit: weights, optimizer state, logs and test metrics.
    straight = train_embedding(config.replace(output_dir=str(tmp_path / "straight")))
    assert straight.metrics == result.metrics
    resumed_last, straight_last = (keras.saving.load_model(tmp_path / run / "checkpoints" / "embedder-epoch2.keras")
                                   for run in ("run", "straight"))
    for a, b in zip(resumed_last.get_weights(), straight_last.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    for a, b in zip(resumed_last.optimizer.variables, straight_last.optimizer.variables, strict=True):
        np.testing.assert_array_equal(keras.ops.convert_to_numpy(a), keras.ops.convert_to_numpy(b))
    logs = [(tmp_path / run / "embedder_log.csv").read_text() for run in ("run", "straight")]
    assert logs[0] == logs[1] and logs[0].count("\n") == 3


@pytest.mark.parametrize("loss, miner", [("hardest_in_batch", "none"), ("arcface", "none"),
                                         ("triplet_margin", "batch_hard")])
def test_in_memory_arrays_as_data(tmp_path, rng, loss, miner):
    stripes = np.tile((np.arange(20) % 4 < 2)[:, None] * 200.0, (1, 20))
    images = np.concatenate([stripes + rng.uniform(0, 40, (30, 20, 20)), stripes.T + rng.uniform(0, 40, (30, 20, 20))])
    data = LabelledImages.from_arrays(images, np.repeat(["horizontal", "vertical"], 30))
    config = EmbedConfig(**{**TINY, "knn_k": 3}, p=2, k=3, epochs=1, batches_per_epoch=2, val_batches=1,
                         loss=loss, miner=miner, output_dir=str(tmp_path / "run"))
    result = train_embedding(config, data=data)
    assert result.metrics["knn_f1"] == pytest.approx(1.0)


def test_cli_runs_prints_metrics_and_rejects_bad_options(tmp_path, capsys):
    run = tmp_path / "cli"
    argv = ["--backbone", "tfeat", "--backbone-options", '{"filters": [8, 16]}', "--image-size", "20",
            "--embedding-dim", "8", "--epochs", "1", "--batches-per-epoch", "2", "--val-batches", "1",
            "--max-images", "200", "--augment", "trivialaugment+flip", "--verbose", "0", "--output-dir", str(run)]
    assert embed.main(argv) == 0
    out = capsys.readouterr().out
    assert "kNN F1 " in out and "recall@1 " in out and "mAP@20 " in out
    assert json.loads((run / "config.json").read_text())["augment"] == "trivialaugment+flip"
    bad = tmp_path / "bad"
    assert embed.main(["--p", "11", "--output-dir", str(bad)]) == 2
    assert "`p` must be at most the number of training classes (10)" in capsys.readouterr().err
    assert embed.main(["--k", "1", "--output-dir", str(bad)]) == 2
    assert "`k` must be an integer >= 2. Received: k=1 (int)" in capsys.readouterr().err
    assert not bad.exists()
    for argv, message in ((["--loss", "softmax"], "argument --loss: invalid choice: 'softmax'"),
                          (["--backbone-options", "[1]"], "argument --backbone-options: must be a JSON object"),
                          (["--epochs", "two"], "argument --epochs: invalid int value: 'two'")):
        assert embed.main(argv) == 2
        err = capsys.readouterr().err.splitlines()
        assert len(err) == 1 and err[0].startswith(f"python -m descriptors.embed: error: {message}")


def test_config_checks(tmp_path):
    with pytest.raises(ConfigError, match="`data` must be one of .*Received: data='mnist'"):
        EmbedConfig(data="mnist")
    with pytest.raises(ConfigError, match=r"`backbone` must be one of"):
        EmbedConfig(backbone="vgg16")
    with pytest.raises(ConfigError, match="`val_fraction` and `test_fraction` must be in"):
        EmbedConfig(test_fraction=0.9)
    with pytest.raises(ConfigError, match="`weights` must be a local file"):
        EmbedConfig(weights=str(tmp_path / "none.h5"))
    with pytest.raises(ConfigError, match="`max_images` must be at least 2 \\* p"):
        EmbedConfig(max_images=5)
    with pytest.raises(ConfigError, match="`miner` works with the losses"):
        EmbedConfig(loss="supcon", miner="batch_hard")
    with pytest.raises(ConfigError, match=r"Unknown config keys \['batch'\]"):
        EmbedConfig.from_dict({"batch": 3})
    path = tmp_path / "config.json"
    path.write_text(json.dumps({"epochs": 3, "loss": "triplet_ratio"}))
    config = EmbedConfig.from_file(path, epochs=4)
    assert (config.epochs, config.loss) == (4, "triplet_ratio")


def test_tsne_figure_is_saved(tmp_path, rng):
    codes = np.concatenate([rng.normal(0, 1, (10, 4)), rng.normal(5, 1, (10, 4))])
    figure = tsne_figure(codes, np.repeat([0, 1], 10), tmp_path / "plots" / "tsne.png", class_names=["a", "b"],
                         max_iter=250)
    assert (tmp_path / "plots" / "tsne.png").stat().st_size > 1000
    assert [text.get_text() for text in figure.axes[0].get_legend().get_texts()] == ["a", "b"]
    with pytest.raises(Exception, match=r"`embeddings` must be \(N, D\) with N >= 4"):
        tsne_figure(codes[:3], [0, 1, 0])
