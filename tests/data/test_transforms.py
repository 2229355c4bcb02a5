"""Augmentation: each transform's invariant, seeding, shapes, and tta_predict."""

import numpy as np
import pytest

import minidl as md
import minidl.data as data
import minidl.nn as nn


def _batch(n=3, c=3, h=6, w=6, seed=0):
    return np.random.default_rng(seed).random((n, c, h, w)).astype(np.float32)


def test_flips_twice_are_the_identity_and_mirror_the_right_axis():
    x = _batch(h=5, w=7)
    h, v = data.RandomHorizontalFlip(p=1.0), data.RandomVerticalFlip(p=1.0)
    np.testing.assert_array_equal(h(x), x[..., ::-1])
    np.testing.assert_array_equal(v(x[0]), x[0, :, ::-1, :])
    np.testing.assert_array_equal(h(h(x)), x)
    np.testing.assert_array_equal(v(v(x)), x)
    np.testing.assert_array_equal(data.RandomHorizontalFlip(p=0.0)(x), x)


def test_flip_probability_is_per_image():
    x = np.arange(2, dtype=np.float32).reshape(1, 1, 1, 2).repeat(4000, 0)
    out = data.RandomHorizontalFlip(p=0.3, seed=0)(x)
    flipped = (out[:, 0, 0, 0] == 1).mean()
    assert abs(flipped - 0.3) < 0.03


@pytest.mark.parametrize("interpolation", ["nearest", "bilinear"])
def test_rotation_by_zero_is_identity_and_by_90_is_rot90(interpolation):
    x = _batch(h=7, w=7)
    np.testing.assert_allclose(data.RandomRotation(0, interpolation)(x), x, atol=1e-6)
    r90 = data.RandomRotation((90, 90), interpolation)(x)
    np.testing.assert_allclose(r90, np.rot90(x, 1, axes=(2, 3)), atol=1e-5)   # counter-clockwise, as torchvision
    r180 = data.RandomRotation((180, 180), interpolation)(x[0])
    np.testing.assert_allclose(r180, x[0, :, ::-1, ::-1], atol=1e-5)


def test_rotation_keeps_shape_dtype_and_fills_corners():
    x = np.ones((1, 1, 9, 9), dtype=np.float32)
    r = data.RandomRotation((45, 45), fill=0)(x)
    assert r.shape == x.shape and r.dtype == np.float32
    assert r[0, 0, 0, 0] == 0 and r[0, 0, 4, 4] == 1   # a corner comes from outside; the centre stays


def test_affine_translation_is_a_whole_pixel_shift():
    x = _batch(n=50, c=1, h=10, w=10)
    out = data.RandomAffine(0, translate=(0.2, 0.2), seed=3)(x)
    for xi, oi in zip(x, out):                        # each image shifted by its own (dx, dy), zeros let in
        matches = [(dx, dy) for dx in range(-2, 3) for dy in range(-2, 3)
                   if np.array_equal(oi, _shift(xi, dx, dy))]
        assert matches, "not a pure shift"
    assert len({tuple(o.ravel()) for o in out}) > 10  # different images get different shifts


def _shift(img, dx, dy):
    out = np.zeros_like(img)
    h, w = img.shape[1:]
    out[:, max(dy, 0):h + min(dy, 0), max(dx, 0):w + min(dx, 0)] = img[:, max(-dy, 0):h + min(-dy, 0),
                                                                       max(-dx, 0):w + min(-dx, 0)]
    return out


def test_affine_identity_rotation_and_scale():
    x = _batch(h=8, w=8)
    np.testing.assert_allclose(data.RandomAffine(0, scale=(1, 1), shear=0)(x), x, atol=1e-6)
    np.testing.assert_allclose(data.RandomAffine((90, 90))(x), np.rot90(x, 1, axes=(2, 3)), atol=1e-5)
    z = data.RandomAffine(0, scale=(2, 2), interpolation="bilinear")(np.ones((1, 1, 8, 8), np.float32))
    assert np.all(z == 1)                              # zooming in never reaches outside the image
    s = data.RandomAffine(0, scale=(0.5, 0.5))(np.ones((1, 1, 8, 8), np.float32))
    assert s[0, 0, 0, 0] == 0 and s[0, 0, 4, 4] == 1   # zooming out lets fill in at the border


def test_random_crop_with_padding_keeps_shape_and_content():
    x = _batch(n=20, c=2, h=6, w=6)
    out = data.RandomCrop(6, padding=2, seed=0)(x)
    assert out.shape == x.shape
    for xi, oi in zip(x, out):
        padded = np.pad(xi, ((0, 0), (2, 2), (2, 2)))
        assert any(np.array_equal(oi, padded[:, i:i + 6, j:j + 6]) for i in range(5) for j in range(5))
    small = data.RandomCrop((3, 4), seed=0)(x[0])
    assert small.shape == (2, 3, 4)
    assert data.RandomCrop(8, pad_if_needed=True)(x).shape == (20, 2, 8, 8)
    with pytest.raises(ValueError, match="larger than the padded image"):
        data.RandomCrop(8)(x)


def test_normalize_per_channel():
    x = np.stack([np.full((2, 2), v, np.float32) for v in (0.0, 0.5, 1.0)])
    out = data.Normalize((0.5, 0.5, 0.5), (0.1, 0.1, 0.1))(x)
    np.testing.assert_allclose(out[:, 0, 0], [-5, 0, 5], atol=1e-5)
    out = data.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])(md.tensor(x[None]))
    assert isinstance(out, md.Tensor) and out.dtype == md.float32
    np.testing.assert_allclose(out.numpy()[0, :, 1, 1], (x[:, 1, 1] - [0.485, 0.456, 0.406]) / [0.229, 0.224, 0.225],
                               rtol=1e-6)
    with pytest.raises(ValueError, match="mean has 2 values but the image has 3 channels"):
        data.Normalize((0.5, 0.5), (1.0, 1.0))(x)
    with pytest.raises(ValueError, match="division by zero"):
        data.Normalize(0.5, 0.0)


def test_color_jitter_brightness_and_contrast():
    x = _batch(n=200, c=1) * 0.5 + 0.25
    np.testing.assert_array_equal(data.ColorJitter()(x), x)
    b = data.ColorJitter(brightness=0.2, seed=0)(x)
    ratio = (b / x).reshape(200, -1)
    assert np.allclose(ratio, ratio[:, :1], rtol=1e-5)              # one factor per image
    assert ratio.min() >= 0.8 - 1e-6 and ratio.max() <= 1.2 + 1e-6 and ratio.std() > 0.05
    c = data.ColorJitter(contrast=0.3, seed=0)(x)
    np.testing.assert_allclose(c.mean(axis=(1, 2, 3)), x.mean(axis=(1, 2, 3)), atol=1e-5)   # mean grey kept
    assert c.min() >= 0 and c.max() <= 1
    with pytest.raises(NotImplementedError, match="saturation"):
        data.ColorJitter(saturation=0.5)


def test_gaussian_noise_statistics_and_seed():
    x = np.zeros((4, 3, 32, 32), np.float32)
    a = data.GaussianNoise(0.1, seed=5)(x)
    assert a.dtype == np.float32 and abs(a.std() - 0.1) < 0.005 and abs(a.mean()) < 0.005
    np.testing.assert_array_equal(a, data.GaussianNoise(0.1, seed=5)(x))
    assert not np.array_equal(a, data.GaussianNoise(0.1, seed=6)(x))
    assert data.GaussianNoise(0.5, clip=True, seed=0)(x).min() >= 0


def test_global_seed_makes_transforms_reproducible():
    x = _batch()
    t = data.Compose([data.RandomRotation(30), data.RandomCrop(6, padding=1), data.GaussianNoise(0.1)])
    md.manual_seed(7)
    a = t(x)
    md.manual_seed(7)
    np.testing.assert_array_equal(a, t(x))


def test_wrong_rank_is_a_clear_error():
    for t in (data.RandomHorizontalFlip(), data.RandomRotation(10), data.Normalize(0, 1), data.RandomCrop(2),
              data.ColorJitter(0.1), data.GaussianNoise(0.1), data.RandomAffine(5)):
        with pytest.raises(ValueError, match=r"expects an image \(C, H, W\) or a batch \(N, C, H, W\), got shape"):
            t(np.zeros((4, 4)))


def test_tta_with_identity_and_flip_is_exactly_flip_invariant():
    md.manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(3 * 6 * 6, 5))
    x = md.tensor(_batch(n=4))
    flip = data.RandomHorizontalFlip(p=1.0)
    tfs = [lambda t: t, flip]
    p = data.tta_predict(model, x, tfs)
    assert p.shape == (4, 5) and np.allclose(p.numpy().sum(1), 1, atol=1e-6)
    np.testing.assert_array_equal(p.numpy(), data.tta_predict(model, flip(x), tfs).numpy())
    plain = model(x).softmax(-1).numpy()
    assert not np.allclose(plain, model(flip(x)).softmax(-1).numpy())   # the model itself is not invariant
    assert model.training                                               # the mode is restored


def test_non_finite_parameters_are_refused_at_construction():
    nan, inf = float("nan"), float("inf")
    cases = [(lambda: data.GaussianNoise(std=nan), "std must be a finite number"),
             (lambda: data.GaussianNoise(mean=inf), "mean must be a finite number"),
             (lambda: data.GaussianNoise(std=-0.1), "std must be a finite number >= 0"),
             (lambda: data.Normalize([0.5], [nan]), "mean and std must be finite"),
             (lambda: data.Normalize([inf], [1.0]), "mean and std must be finite"),
             (lambda: data.RandomRotation(nan), "degrees must be finite"),
             (lambda: data.RandomRotation(inf), "degrees must be finite"),
             (lambda: data.RandomRotation((-inf, 0.0)), "degrees must be finite"),
             (lambda: data.RandomAffine(0, scale=(nan, 1.0)), "scale must be finite"),
             (lambda: data.RandomAffine(0, shear=nan), "shear must be finite"),
             (lambda: data.RandomAffine(0, translate=(nan, 0.1)), "translate must be finite"),
             (lambda: data.ColorJitter(brightness=nan), "brightness must be a finite number"),
             (lambda: data.ColorJitter(contrast=inf), "contrast must be a finite number"),
             (lambda: data.ColorJitter(brightness=(0.5, nan)), "brightness must be finite")]
    for make, msg in cases:
        with pytest.raises(ValueError, match=msg):
            make()
    with pytest.raises(TypeError, match="std must be a number"):
        data.GaussianNoise(std="0.1")


def test_numpy_scalars_are_accepted_like_python_numbers():
    x = np.random.default_rng(0).random((4, 1, 5, 5)).astype(np.float32)
    for ours, ref in ((data.RandomHorizontalFlip(np.float32(0.5), seed=1), data.RandomHorizontalFlip(0.5, seed=1)),
                      (data.RandomRotation(np.int64(30), seed=1), data.RandomRotation(30, seed=1)),
                      (data.RandomAffine(np.float64(10), shear=np.float32(5), seed=1),
                       data.RandomAffine(10.0, shear=5.0, seed=1)),
                      (data.ColorJitter(brightness=np.float32(0.25), seed=1),
                       data.ColorJitter(brightness=0.25, seed=1)),
                      (data.GaussianNoise(np.float32(0.5), np.int64(1), seed=1), data.GaussianNoise(0.5, 1.0, seed=1))):
        np.testing.assert_allclose(ours(x), ref(x), rtol=1e-6, atol=1e-6)
    crop = data.RandomCrop(np.int64(5), padding=np.int32(1), seed=1)
    assert crop.size == (5, 5) and crop.padding == (1, 1, 1, 1)
    np.testing.assert_array_equal(crop(x), data.RandomCrop(5, padding=1, seed=1)(x))
    with pytest.raises(ValueError, match="p must be a probability"):
        data.RandomHorizontalFlip(np.True_)
