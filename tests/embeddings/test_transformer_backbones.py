"""ViT and Swin backbones: window partition, shifted-window mask, relative position index and window attention
against brute-force numpy oracles; token / parameter counts; `.keras` round trips; size errors; local weights."""

import keras
import numpy as np
import pytest

from descriptors.embeddings.backbones import build_backbone, check_backbone_input
from descriptors.embeddings.swin import SwinTransformer, stage_windows
from descriptors.embeddings.swin_layers import (
    MASK_VALUE,
    PatchMerging,
    SwinBlock,
    WindowAttention,
    relative_position_index,
    shifted_window_mask,
    window_partition,
    window_reverse,
)
from descriptors.embeddings.vit import ClassTokenPositionEmbedding, VisionTransformer
from descriptors.errors import ConfigError


def _np(x):
    return keras.ops.convert_to_numpy(x)


def test_window_partition_order_and_round_trip(rng):
    x = rng.normal(size=(2, 8, 12, 3)).astype(np.float32)
    windows = _np(window_partition(x, 4))
    assert windows.shape == (2 * 2 * 3, 16, 3)
    for b in range(2):
        for wi in range(2):
            for wj in range(3):
                for di in range(4):
                    for dj in range(4):
                        np.testing.assert_array_equal(windows[b * 6 + wi * 3 + wj, di * 4 + dj],
                                                      x[b, wi * 4 + di, wj * 4 + dj])
    np.testing.assert_array_equal(_np(window_reverse(windows, 4, 8, 12)), x)


@pytest.mark.parametrize("height, width, window, shift", [(8, 8, 4, 2), (8, 12, 4, 2), (6, 9, 3, 1)])
def test_shifted_window_mask_against_region_oracle(height, width, window, shift):
    # After the roll by -shift, the last `shift` rows / columns hold the wrapped-around first rows / columns.
    region = [[2 * (i >= height - shift) + (j >= width - shift) for j in range(width)] for i in range(height)]
    expected = []
    for wi in range(height // window):
        for wj in range(width // window):
            labels = [region[wi * window + di][wj * window + dj] for di in range(window) for dj in range(window)]
            expected.append([[0.0 if p == q else MASK_VALUE for q in labels] for p in labels])
    mask = shifted_window_mask(height, width, window, shift)
    np.testing.assert_array_equal(mask, np.array(expected, np.float32))
    assert mask.dtype == np.float32 and (mask != 0).any()


@pytest.mark.parametrize("window", [2, 3, 4])
def test_relative_position_index_against_brute_force(window):
    tokens = [(i, j) for i in range(window) for j in range(window)]
    expected = [[(p[0] - q[0] + window - 1) * (2 * window - 1) + (p[1] - q[1] + window - 1) for q in tokens]
                for p in tokens]
    index = relative_position_index(window)
    np.testing.assert_array_equal(index, expected)
    assert index.min() == 0 and index.max() == (2 * window - 1) ** 2 - 1


def _softmax(x):
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def test_window_attention_matches_numpy_oracle(rng):
    dim, window, heads, windows, batch = 8, 2, 2, 2, 2
    n, hd = window * window, dim // heads
    layer = WindowAttention(dim, window, heads)
    x = rng.normal(size=(batch * windows, n, dim)).astype(np.float32)
    layer(x)
    table = rng.normal(size=((2 * window - 1) ** 2, heads)).astype(np.float32)
    layer.relative_position_bias_table.assign(table)
    mask = np.where(rng.random((windows, n, n)) < 0.3, MASK_VALUE, 0.0).astype(np.float32)
    mask[:, np.arange(n), np.arange(n)] = 0.0
    wqkv, bqkv = (_np(w) for w in layer.qkv.weights)
    wo, bo = (_np(w) for w in layer.proj.weights)
    index = relative_position_index(window)
    for attention_mask in (None, mask):
        expected = np.zeros_like(x)
        for row in range(batch * windows):
            qkv = x[row] @ wqkv + bqkv
            heads_out = []
            for h in range(heads):
                q, k, v = (qkv[:, part * dim + h * hd: part * dim + (h + 1) * hd] for part in range(3))
                logits = q @ k.T / np.sqrt(hd) + table[index, h]
                if attention_mask is not None:
                    logits = logits + attention_mask[row % windows]
                heads_out.append(_softmax(logits) @ v)
            expected[row] = np.concatenate(heads_out, axis=-1) @ wo + bo
        np.testing.assert_allclose(_np(layer(x, attention_mask=attention_mask)), expected, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("shift, reached", [(0, [(i, j) for i in range(4) for j in range(4)]),
                                            (2, [(0, 0), (0, 1), (1, 0), (1, 1)])])
def test_swin_block_mixes_tokens_only_inside_its_window_and_region(shift, reached, rng):
    """Changing token (0, 0) changes exactly its window (regular) or its wrapped corner region (shifted)."""
    block = SwinBlock(dim=8, num_heads=2, window_size=4, shift_size=shift)
    x = rng.normal(size=(1, 8, 8, 8)).astype(np.float32)
    moved = x.copy()
    moved[0, 0, 0] += rng.normal(size=8)  # not a constant: LayerNorm would remove it
    changed = np.abs(_np(block(moved)) - _np(block(x))).max(axis=-1)[0] > 1e-4
    assert sorted(zip(*np.nonzero(changed))) == reached


def test_patch_merging_concatenates_2x2_in_paper_order(rng):
    layer = PatchMerging(dim=2)
    x = rng.normal(size=(1, 4, 4, 2)).astype(np.float32)
    layer(x)
    merged = np.concatenate([x[:, 0::2, 0::2], x[:, 1::2, 0::2], x[:, 0::2, 1::2], x[:, 1::2, 1::2]], axis=-1)
    mean, var = merged.mean(-1, keepdims=True), merged.var(-1, keepdims=True)
    expected = (merged - mean) / np.sqrt(var + 1e-5) @ _np(layer.reduction.kernel)  # LayerNorm at init: 1, 0
    np.testing.assert_allclose(_np(layer(x)), expected, rtol=1e-5, atol=1e-5)


def test_stage_windows_use_one_unshifted_window_for_small_maps():
    assert stage_windows(16, 16, 4, 2) == [(16, 16, 4, 2), (8, 8, 4, 2)]
    assert stage_windows(4, 8, 4, 2) == [(4, 8, 4, 0), (2, 4, 2, 0)]


def test_class_token_position_embedding(rng):
    layer = ClassTokenPositionEmbedding()
    x = rng.normal(size=(2, 3, 4)).astype(np.float32)
    layer(x)
    layer.class_token.assign(rng.normal(size=(1, 1, 4)))
    out, cls, pos = _np(layer(x)), _np(layer.class_token), _np(layer.position_embedding)
    np.testing.assert_allclose(out[:, 0], np.broadcast_to(cls[0, 0] + pos[0, 0], (2, 4)), rtol=1e-6)
    np.testing.assert_allclose(out[:, 1:], x + pos[:, 1:], rtol=1e-6)


def test_vit_defaults_tokens_parameters_and_unit_norm(rng):
    model = VisionTransformer()
    assert model.num_tokens == 65 and model.get_layer("class_token_position").output.shape == (None, 65, 64)
    d, m = 64, 128
    block = 2 * (2 * d) + 4 * (d * d + d) + (d * m + m) + (m * d + d)  # 2 LayerNorms, q/k/v/out, MLP
    expected = (4 * 4 * 1 * d + d) + d + 65 * d + 4 * block + 2 * d + (d * 128 + 128)
    assert expected == 147_648 and model.count_params() == expected
    images = rng.uniform(0, 255, (3, 32, 32, 1)).astype(np.float32)
    tokens, pooled = keras.Model(model.input, [model.get_layer("final_norm").output,
                                               model.get_layer("class_token_flatten").output])(images)
    np.testing.assert_array_equal(_np(pooled), _np(tokens)[:, 0])  # the class token is the one embedded
    codes = _np(model(images))
    assert codes.shape == (3, 128)
    np.testing.assert_allclose(np.linalg.norm(codes, axis=1), 1.0, rtol=1e-5)


def test_swin_defaults_parameters_and_shifts():
    model = SwinTransformer()

    def block(c):  # 2 LayerNorms, qkv, proj, bias table (7x7 x heads = c / 16), MLP 4c
        return 4 * c + (c * 3 * c + 3 * c) + (c * c + c) + 49 * c // 16 + (c * 4 * c + 4 * c) + (4 * c * c + c)

    expected = (2 * 2 * 32 + 32) + 64 + 2 * block(32) + (2 * 128 + 128 * 64) + 2 * block(64) + 128 + (64 * 128 + 128)
    assert expected == 143_084 and model.count_params() == expected
    shifts = [model.get_layer(f"stage{s}_block{b}").shift_size for s in (1, 2) for b in (1, 2)]
    assert shifts == [0, 2, 0, 2]


@pytest.mark.parametrize("name, input_shape, options", [
    ("vit", (32, 32, 3), {"depth": 2, "dropout": 0.1}),
    ("swin", (32, 48, 1), {"embed_dim": 16, "dropout": 0.1}),
])
def test_round_trip_through_keras_file_in_safe_mode(name, input_shape, options, rng, tmp_path):
    model = build_backbone(name, input_shape=input_shape, embedding_dim=16, **options)
    images = rng.uniform(0, 255, (3, *input_shape)).astype(np.float32)
    codes = _np(model(images, training=False))
    model.save(tmp_path / "model.keras")
    loaded = keras.models.load_model(tmp_path / "model.keras", safe_mode=True)
    assert type(loaded) is type(model) and loaded.get_config() == model.get_config()
    np.testing.assert_allclose(_np(loaded(images, training=False)), codes, atol=1e-6)
    assert codes.shape == (3, 16) and loaded.image_shape == input_shape
    np.testing.assert_allclose(np.linalg.norm(codes, axis=1), 1.0, rtol=1e-5)


@pytest.mark.parametrize("name, options", [("vit", {"depth": 1}), ("swin", {"depths": (1, 1)})])
def test_local_weights_file_is_loaded(name, options, rng, tmp_path):
    source = build_backbone(name, embedding_dim=8, **options)
    path = tmp_path / f"{name}.weights.h5"
    source.save_weights(path)
    keras.utils.set_random_seed(99)
    copy = build_backbone(name, embedding_dim=8, weights=str(path), **options)
    images = rng.uniform(0, 255, (2, 32, 32, 1)).astype(np.float32)
    np.testing.assert_allclose(_np(copy(images)), _np(source(images)), atol=1e-6)


def test_size_and_option_errors_name_the_value():
    with pytest.raises(ConfigError, match=r"`input_shape` of VisionTransformer must have H and W multiples of "
                                          r"patch_size=4\. Received: input_shape=\(30, 32, 1\)"):
        build_backbone("vit", input_shape=(30, 32, 1))
    with pytest.raises(ConfigError, match=r"VisionTransformer must be .*H, W >= 8 .*input_shape=\(4, 4, 1\)"):
        build_backbone("vit", input_shape=(4, 4, 1), patch_size=8)
    with pytest.raises(ConfigError, match=r"`hidden_dim` of VisionTransformer must be a multiple of num_heads=3\. "
                                          r"Received: hidden_dim=64"):
        build_backbone("vit", num_heads=3)
    with pytest.raises(ConfigError, match=r"multiples of 4 \(patch_size=2 x 2\*\*1 patch mergings\)\. "
                                          r"Received: input_shape=\(34, 32, 1\)"):
        build_backbone("swin", input_shape=(34, 32, 1))
    with pytest.raises(ConfigError, match=r"window_size=4 windows \(e\.g\. H, W multiples of 16\); stage 2 is 6x6\. "
                                          r"Received: input_shape=\(24, 24, 1\)"):
        build_backbone("swin", input_shape=(24, 24, 1))
    with pytest.raises(ConfigError, match=r"`num_heads` of SwinTransformer must have one entry per stage \(2\)"):
        build_backbone("swin", num_heads=(2,))
    with pytest.raises(ConfigError, match=r"`num_heads` of SwinTransformer must divide .*\[32, 64\]"):
        build_backbone("swin", num_heads=(3, 4))
    with pytest.raises(ConfigError, match=r"`patch_size` of VisionTransformer must be a positive integer\. "
                                          r"Received: patch_size='4'"):
        check_backbone_input("vit", (32, 32, 1), {"patch_size": "4"})
    with pytest.raises(ConfigError, match=r"stage 1 is 10x10\. Received: input_shape=\(20, 20, 1\)"):
        check_backbone_input("swin", (20, 20, 1))
    check_backbone_input("swin", (20, 20, 1), {"window_size": 5, "depths": [1]})  # 10x10 in 5x5 windows: fits
    check_backbone_input("vit", (30, 30, 3), {"patch_size": 5})
    check_backbone_input("tfeat", (3, 3, 1))  # built-time check only for the other backbones


def test_smallest_swin_input_is_one_window_per_stage(rng):
    model = build_backbone("swin", input_shape=(8, 8, 1), embedding_dim=8, embed_dim=8)
    assert [model.get_layer(f"stage{s}_block2").window_size for s in (1, 2)] == [4, 2]
    assert model.get_layer("stage1_block2").shift_size == 0
    assert _np(model(rng.uniform(0, 255, (2, 8, 8, 1)).astype(np.float32))).shape == (2, 8)
