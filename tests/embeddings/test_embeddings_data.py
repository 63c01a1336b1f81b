"""Image sources, offline default sets, PK batch plans and the seeded per-image augmentation policies."""

from concurrent.futures import ThreadPoolExecutor

import cv2
import numpy as np
import pytest

from descriptors.embeddings.augmentation import AUTOAUGMENT_SUBPOLICIES, Augmenter, parse_policy
from descriptors.embeddings.default_data import load_default_images, load_digits_images, load_face_images
from descriptors.embeddings.image_folder import load_image_folder
from descriptors.embeddings.images import LabelledImages
from descriptors.embeddings.pk_batches import PKBatches, pk_to_triplets, plan_pk_batches
from descriptors.errors import ConfigError, DataFormatError, ShapeError


def test_from_arrays_maps_labels_and_scales(rng):
    data = LabelledImages.from_arrays(rng.uniform(0, 255, (6, 5, 5)), ["b", "a", "b", "c", "a", "c"])
    assert data.images.shape == (6, 5, 5, 1) and data.images.dtype == np.uint8
    np.testing.assert_array_equal(data.labels, [1, 0, 1, 2, 0, 2])
    assert data.class_names == ("a", "b", "c") and data.num_classes == 3
    with pytest.raises(ShapeError, match=r"`images` must have shape \(N, H, W, C\)"):
        LabelledImages(np.zeros((2, 4, 4, 2), np.uint8), np.zeros(2), ("a",))
    with pytest.raises(DataFormatError, match="`images` must be uint8"):
        LabelledImages(np.zeros((2, 4, 4, 1)), np.zeros(2), ("a",))
    with pytest.raises(DataFormatError, match=r"`labels` must lie in 0..0"):
        LabelledImages(np.zeros((2, 4, 4, 1), np.uint8), np.array([0, 1]), ("a",))
    with pytest.raises(ShapeError, match=r"`labels` must have shape \(2,\)"):
        LabelledImages(np.zeros((2, 4, 4, 1), np.uint8), np.zeros(3), ("a",))
    with pytest.raises(DataFormatError, match="`class_names` must name each of the 3 labels"):
        LabelledImages.from_arrays(np.zeros((3, 4, 4)), [0, 1, 2], class_names=["x"])


def test_split_is_stratified_disjoint_and_seeded():
    data = LabelledImages.from_arrays(np.arange(40).reshape(40, 1, 1) * 5, np.repeat([0, 1], 20))
    val, test, train = data.split((0.1, 0.3), seed=3)
    assert [np.bincount(part.labels).tolist() for part in (val, test, train)] == [[2, 2], [6, 6], [12, 12]]
    pixels = np.concatenate([p.images.ravel() for p in (val, test, train)])
    assert sorted(pixels.tolist()) == sorted(data.images.ravel().tolist())
    again = data.split((0.1, 0.3), seed=3)
    np.testing.assert_array_equal(again[0].images, val.images)


def test_image_folder(tmp_path):
    for name, value in (("cat", 50), ("dog", 200)):
        (tmp_path / name).mkdir()
        for index in range(2):
            cv2.imwrite(str(tmp_path / name / f"{index}.png"), np.full((10, 12, 3), value + index, np.uint8))
    (tmp_path / "notes.txt").write_text("not a class")
    data = load_image_folder(tmp_path, image_size=8, channels=3)
    assert data.images.shape == (4, 8, 8, 3) and data.class_names == ("cat", "dog")
    np.testing.assert_array_equal(data.labels, [0, 0, 1, 1])
    np.testing.assert_array_equal(data.images[:, 0, 0, 0], [50, 51, 200, 201])
    assert load_image_folder(tmp_path, image_size=16, channels=1).images.shape == (4, 16, 16, 1)
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataFormatError, match="holds no image"):
        load_image_folder(tmp_path)
    with pytest.raises(FileNotFoundError, match="`root` must be an image folder"):
        load_image_folder(tmp_path / "nowhere")
    with pytest.raises(ConfigError, match="`channels` must be 1 or 3. Received: channels=2"):
        load_image_folder(tmp_path, channels=2)
    with pytest.raises(DataFormatError, match="has no class sub-folders"):
        load_image_folder(tmp_path / "empty")


def test_offline_default_sets():
    digits = load_digits_images(16)
    assert digits.images.shape == (1797, 16, 16, 1) and digits.num_classes == 10
    assert digits.images.max() == 255
    faces = load_face_images(32)
    assert faces.images.shape == (200, 32, 32, 1) and np.bincount(faces.labels).tolist() == [100, 100]
    with pytest.raises(ConfigError, match="`name` must be one of"):
        load_default_images("mnist")


def test_pk_plan_rows_are_distinct_classes_and_seeded():
    labels = np.repeat(np.arange(5), [3, 4, 5, 6, 1])
    plan = plan_pk_batches(labels, 4, 3, 6, np.random.default_rng(0))
    assert plan.shape == (6, 4, 3)
    row_labels = labels[plan]
    assert np.all(row_labels == row_labels[..., :1])
    assert all(len(set(batch[:, 0])) == 4 for batch in row_labels)
    rich = [(row, lab) for batch, labs in zip(plan, row_labels) for row, lab in zip(batch, labs[:, 0]) if lab != 4]
    assert all(len(set(row)) == 3 for row, _ in rich)  # without replacement when the class has >= K images
    np.testing.assert_array_equal(plan, plan_pk_batches(labels, 4, 3, 6, np.random.default_rng(0)))
    triplets = pk_to_triplets(plan)
    assert triplets.shape == (6, 4, 3)
    assert np.all(labels[triplets[..., 0]] == labels[triplets[..., 1]])
    assert np.all(labels[triplets[..., 0]] != labels[triplets[..., 2]])
    with pytest.raises(ConfigError, match=r"`p` must be an integer in 2..5"):
        plan_pk_batches(labels, 6, 2, 1, np.random.default_rng(0))
    with pytest.raises(ConfigError, match="`k` must be a positive integer"):
        plan_pk_batches(labels, 2, 0, 1, np.random.default_rng(0))
    with pytest.raises(ConfigError, match="A triplet loss needs `k` >= 2"):
        pk_to_triplets(plan[..., :1])


def test_pk_batches_layout(rng):
    images = rng.integers(0, 255, (12, 8, 8, 1)).astype(np.uint8)
    labels = np.repeat(np.arange(4), 3)
    plan = plan_pk_batches(labels, 3, 2, 2, rng)
    x, y = PKBatches(images, labels, plan)[1]
    assert x.shape == (3, 2, 8, 8, 1) and x.dtype == np.float32 and len(PKBatches(images, labels, plan)) == 2
    np.testing.assert_array_equal(x[2, 1], images[plan[1, 2, 1]])
    np.testing.assert_array_equal(y, labels[plan[1, :, 0]])
    augmented = PKBatches(images, labels, plan, augment=Augmenter("noise"), augment_seed=5)
    np.testing.assert_array_equal(augmented[0][0], augmented[0][0])
    assert not np.array_equal(augmented[0][0], PKBatches(images, labels, plan)[0][0])


def test_augmented_batches_are_the_same_when_built_by_concurrent_threads():
    # PKBatches is prefetched by worker threads: every policy must give, per batch index, what a lone thread gives
    data = load_digits_images(16)
    plan = plan_pk_batches(data.labels, 4, 2, 8, np.random.default_rng(0))
    batches = PKBatches(data.images, data.labels, plan, augment=Augmenter("basic+blur+randaugment+trivialaugment"),
                        augment_seed=3)
    assert batches.workers >= 2
    alone = [batches[i][0] for i in range(len(batches))]
    with ThreadPoolExecutor(max_workers=4) as pool:
        together = list(pool.map(lambda i: batches[i][0], range(len(batches))))
    for one, other in zip(alone, together):
        np.testing.assert_array_equal(one, other)


@pytest.mark.parametrize("spec", ["basic", "flip+crop+jitter+blur+noise", "randaugment", "autoaugment",
                                  "trivialaugment"])
def test_policies_are_seeded_shape_preserving_and_per_image(spec):
    digits = load_digits_images(16).images[:1].astype(np.float32)
    images = np.repeat(digits, 12, axis=0)  # twelve copies of one image
    augmenter = Augmenter(spec, channels=1)
    out = augmenter(images, 7)
    assert out.shape == images.shape and out.dtype == np.float32
    assert out.min() >= 0 and out.max() <= 255
    np.testing.assert_array_equal(out, augmenter(images, 7))
    assert not np.array_equal(out, augmenter(images, 8))
    assert len({o.tobytes() for o in out}) > 3  # copies of one image come out differently


def test_rgb_policy_and_errors():
    images = np.random.default_rng(1).uniform(0, 255, (4, 16, 16, 3)).astype(np.float32)
    assert Augmenter("jitter+randaugment", channels=3)(images, 0).shape == (4, 16, 16, 3)
    assert parse_policy("none") == () and parse_policy("flip+noise") == ("flip", "noise")
    assert len(AUTOAUGMENT_SUBPOLICIES) == 8
    with pytest.raises(ConfigError, match=r"`augment` must be a '\+'-joined list of .*Received: augment='mixup'"):
        Augmenter("mixup")
    with pytest.raises(ConfigError, match="`magnitude` must be in"):
        Augmenter("randaugment", magnitude=0)
    with pytest.raises(ConfigError, match="`num_ops` must be a positive integer"):
        Augmenter("randaugment", num_ops=0)
