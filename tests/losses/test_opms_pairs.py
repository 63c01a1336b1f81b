"""SimNet's OPMS pair curriculum: the kept pairs by hand, difficulty that rises with lambda, the loss value against a
NumPy oracle, and the curriculum reaching the loss through the batches of both trainers."""

import keras
import numpy as np
import pytest

from descriptors.errors import ConfigError
from descriptors.losses import ContrastiveLoss
from descriptors.losses.opms_pairs import OPMSPairLoss, opms_pair_selection
from descriptors.losses.registry import build_configured_loss, build_loss


def _views(b=8, k=2, d=6, seed=0):
    rng = np.random.default_rng(seed)
    views = rng.normal(size=(b, 1, d)) + 0.8 * rng.normal(size=(b, k, d))
    return (views / np.linalg.norm(views, axis=-1, keepdims=True)).astype(np.float32)


def _oracle(views, difficulty, window=0.5, margin=1.0):
    emb = views.reshape(-1, views.shape[-1]).astype(np.float64)
    labels = np.repeat(np.arange(len(views)), views.shape[1])
    d = np.sqrt(((emb[:, None] - emb[None]) ** 2).sum(-1))
    i, j = np.triu_indices(len(emb), 1)
    low = difficulty * (1 - window)
    kept = {}
    for kind, mask, hardness in (("pos", labels[i] == labels[j], d[i, j]), ("neg", labels[i] != labels[j], -d[i, j])):
        order = np.argsort(hardness[mask], kind="stable")
        q = np.empty(mask.sum())
        q[order] = np.arange(mask.sum()) / max(mask.sum() - 1, 1)
        keep = (q >= low - 1e-6) & (q <= low + window + 1e-6)
        kept[kind] = d[i, j][mask][keep]
    value = (kept["pos"] ** 2).mean() + (np.maximum(0, margin - kept["neg"]) ** 2).mean()
    return value, kept


@pytest.mark.parametrize("difficulty", [0.0, 0.3, 1.0])
def test_loss_equals_the_oracle(difficulty):
    views = _views()
    y = np.stack([np.arange(8), np.full(8, difficulty)], axis=1).astype(np.float32)
    expected, _ = _oracle(views, difficulty)
    assert float(OPMSPairLoss()(y, views)) == pytest.approx(expected, rel=1e-5)
    assert float(OPMSPairLoss(difficulty=difficulty)(None, views)) == pytest.approx(expected, rel=1e-5)


def test_pair_difficulty_rises_with_lambda():
    views = _views(b=16, k=3, seed=1)
    positives, negatives = [], []
    for difficulty in (0.0, 0.25, 0.5, 0.75, 1.0):
        _, kept = _oracle(views, difficulty)
        positives.append(kept["pos"].mean())
        negatives.append(kept["neg"].mean())
    assert np.all(np.diff(positives) > 0) and np.all(np.diff(negatives) < 0)  # farther positives, closer negatives
    emb = views.reshape(-1, 6)
    d = keras.ops.convert_to_numpy(keras.ops.sqrt(keras.ops.maximum(
        ((emb[:, None] - emb[None]) ** 2).sum(-1), 0.0)))
    same = np.equal.outer(np.repeat(np.arange(16), 3), np.repeat(np.arange(16), 3))
    easy_pos, easy_neg = (keras.ops.convert_to_numpy(m) for m in opms_pair_selection(d, same, 0.0))
    hard_pos, hard_neg = (keras.ops.convert_to_numpy(m) for m in opms_pair_selection(d, same, 1.0))
    assert d[hard_pos].mean() > d[easy_pos].mean() and d[hard_neg].mean() < d[easy_neg].mean()
    assert easy_pos.sum() == pytest.approx(0.5 * 48, abs=1) and not np.any(np.tril(hard_neg))


def test_registry_config_and_errors():
    loss = build_configured_loss("contrastive", miner="opms_pairs", margin=0.7)
    assert isinstance(loss, OPMSPairLoss) and loss.margin == 0.7
    assert isinstance(build_loss("contrastive"), ContrastiveLoss)
    with pytest.raises(ConfigError, match=r"mines pairs for the loss 'contrastive'.*triplet_margin"):
        build_loss("triplet_margin", miner="opms_pairs")
    again = keras.losses.deserialize(keras.losses.serialize(OPMSPairLoss(window=0.3, difficulty=0.2)))
    assert (again.window, again.difficulty) == (0.3, 0.2)
    for bad in ({"window": 0.0}, {"window": 1.5}, {"difficulty": -0.1}, {"use_labels": 1}):
        with pytest.raises(ConfigError, match=next(iter(bad))):
            OPMSPairLoss(**bad)


def test_curriculum_reaches_both_trainers():
    from descriptors.embeddings.config import EmbedConfig
    from descriptors.training.config import TrainConfig

    config = TrainConfig(loss="contrastive", miner="opms_pairs")
    assert config.uses_views and config.sampling_kind == "pairs"
    with pytest.raises(ConfigError, match=r"`miner='opms_pairs'` mines pairs for loss='contrastive'"):
        TrainConfig(loss="triplet_margin", miner="opms_pairs")
    assert EmbedConfig(loss="contrastive", miner="opms_pairs").miner == "opms_pairs"
    with pytest.raises(ConfigError, match="opms_pairs"):
        EmbedConfig(loss="supcon", miner="opms_pairs")


def test_image_trainer_batches_carry_a_rising_difficulty():
    from descriptors.embeddings.config import EmbedConfig
    from descriptors.embeddings.trainer import load_data, make_stage, split_data

    config = EmbedConfig(loss="contrastive", miner="opms_pairs", epochs=3, max_images=300, p=4, k=2,
                         batches_per_epoch=2)
    train, val, _ = split_data(load_data(config), config)
    stage = make_stage(config, train, val)
    lambdas = [float(stage.train_batches(epoch)[0][1][0, 1]) for epoch in range(3)]
    assert lambdas == pytest.approx([0.2, 0.6, 1.0])
    _, y = stage.val_batches[0]
    assert np.ndim(y) == 1  # validation: the loss's own difficulty (1.0, the hardest pairs)
