"""Image augmentation with torchvision's names, on images (C, H, W) or batches (N, C, H, W).

    augment = Compose([RandomCrop(8, padding=1), RandomRotation(10), GaussianNoise(0.05)])
    xb = augment(xb)            # a Tensor or array in, the same kind out (no gradient tracking)

Each random transform draws its parameters from its own ``seed`` (keyword) or, when that is
None, from minidl's global generator (``md.manual_seed``). On a batch every image gets its
own draw (torchvision's tensor transforms use one draw for the whole batch). Everything runs
on the input's array module, NumPy or CuPy: the geometric transforms share one small
sampler that maps every output pixel back to the input (nearest or bilinear; pixels from
outside the image get ``fill``). ColorJitter clips to [0, 1], as torchvision does for
float images: use it on images scaled to [0, 1].

``tta_predict(model, x, transforms)`` averages the predicted class probabilities over
augmented copies of x (test-time augmentation).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import minidl as md
from minidl import backend

from ._util import check_seed, float_array, generator, like, np, to_array


def _images(x: Any, who: str) -> tuple[Any, bool]:
    """(N, C, H, W) float array of ``x`` and whether x was a single (C, H, W) image."""
    a = to_array(x, "image")
    if a.ndim not in (3, 4):
        raise ValueError(f"{who} expects an image (C, H, W) or a batch (N, C, H, W), got shape {tuple(a.shape)}")
    a = float_array(a, "image")
    return (a[None], True) if a.ndim == 3 else (a, False)


def _out(a: Any, single: bool, template: Any) -> Any:
    return like(a[0] if single else a, template)


def _is_number(value: Any) -> bool:
    """A Python or NumPy int or float (bools are not numbers here)."""
    return not isinstance(value, (bool, np.bool_)) and isinstance(value, (int, float, np.integer, np.floating))


def _is_int(value: Any) -> bool:
    """A Python or NumPy int (not a bool)."""
    return not isinstance(value, (bool, np.bool_)) and isinstance(value, (int, np.integer))


def _finite(value: Any, name: str, minimum: float | None = None) -> float:
    """``value`` as a float: a finite number (at least ``minimum`` if given), else a clear error."""
    if not _is_number(value):
        raise TypeError(f"{name} must be a number, got {type(value).__name__}")
    if not np.isfinite(value) or (minimum is not None and value < minimum):
        raise ValueError(f"{name} must be a finite number" + ("" if minimum is None else f" >= {minimum}")
                         + f", got {value!r}")
    return float(value)


def _pair(value: Any, name: str, symmetric: bool = True, minimum: float | None = None) -> tuple[float, float]:
    """A number v -> (-v, v) (or (1 - v, 1 + v) style handled by callers); a pair -> itself.
    Both ends must be finite."""
    if _is_number(value):
        if value < 0:
            raise ValueError(f"If {name} is a single number, it must be non-negative, got {value}")
        lo, hi = (-float(value), float(value)) if symmetric else (float(value), float(value))
    else:
        try:
            lo, hi = (float(v) for v in value)
        except (TypeError, ValueError) as exc:
            raise TypeError(f"{name} must be a number or a pair (min, max), got {value!r}") from exc
    if not (np.isfinite(lo) and np.isfinite(hi)):
        raise ValueError(f"{name} must be finite, got {value!r}")
    if lo > hi:
        raise ValueError(f"{name}: min {lo} is larger than max {hi}")
    if minimum is not None and lo < minimum:
        raise ValueError(f"{name} values must be at least {minimum}, got {(lo, hi)}")
    return lo, hi


class Compose:
    """Apply ``transforms`` one after the other."""

    def __init__(self, transforms: Sequence[Callable[[Any], Any]]) -> None:
        self.transforms = list(transforms)
        for t in self.transforms:
            if not callable(t):
                raise TypeError(f"Compose: {t!r} is not callable")

    def __call__(self, x: Any) -> Any:
        for t in self.transforms:
            x = t(x)
        return x

    def __repr__(self) -> str:
        return "Compose([" + ", ".join(repr(t) for t in self.transforms) + "])"


class Normalize:
    """out[c] = (x[c] - mean[c]) / std[c] for each channel c (dimension -3).

    ``Normalize((0.5,), (0.1,))`` sends [0, 1] to [-5, 5]. mean and std have one entry per
    channel (or one for all), fixed numbers, typically the training set's channel statistics.
    """

    def __init__(self, mean: Sequence[float] | float, std: Sequence[float] | float, inplace: bool = False) -> None:
        m = np.atleast_1d(np.asarray(mean, dtype=backend.float64))
        s = np.atleast_1d(np.asarray(std, dtype=backend.float64))
        if m.ndim != 1 or s.ndim != 1:
            raise ValueError("Normalize: mean and std must be numbers or 1-D sequences (one per channel)")
        if not (np.all(np.isfinite(m)) and np.all(np.isfinite(s))):
            raise ValueError(f"Normalize: mean and std must be finite, got mean={m.tolist()}, std={s.tolist()}")
        if np.any(s == 0):
            raise ValueError(f"Normalize: std evaluated to zero after conversion to float64, leading to division "
                             f"by zero (std={s.tolist()})")
        self.mean, self.std, self.inplace = m, s, bool(inplace)

    def __call__(self, x: Any) -> Any:
        a, single = _images(x, "Normalize")
        c = a.shape[1]
        for name, v in (("mean", self.mean), ("std", self.std)):
            if v.size not in (1, c):
                raise ValueError(f"Normalize: {name} has {v.size} values but the image has {c} channels")
        xp = backend.array_module(a)
        m = xp.asarray(self.mean.astype(a.dtype)).reshape(-1, 1, 1)
        s = xp.asarray(self.std.astype(a.dtype)).reshape(-1, 1, 1)
        if self.inplace and a.dtype.kind == "f" and to_array(x).dtype == a.dtype:
            a -= m
            a /= s
            return x
        return _out((a - m) / s, single, x)

    def __repr__(self) -> str:
        return f"Normalize(mean={self.mean.tolist()}, std={self.std.tolist()})"


class _Random:
    """A transform with random parameters: from ``seed`` (its own generator) or minidl's RNG."""

    def __init__(self, seed: int | None) -> None:
        self.seed = check_seed(seed)
        self._gen = None if self.seed is None else generator(self.seed)

    def _rng(self) -> Any:
        return self._gen if self._gen is not None else generator(None)


def _probability(p: Any) -> float:
    if not _is_number(p) or not 0 <= p <= 1:
        raise ValueError(f"p must be a probability in [0, 1], got {p!r}")
    return float(p)


class RandomHorizontalFlip(_Random):
    """Mirror left-right (reverse the width axis) with probability ``p``."""

    _axis = -1

    def __init__(self, p: float = 0.5, *, seed: int | None = None) -> None:
        super().__init__(seed)
        self.p = _probability(p)

    def __call__(self, x: Any) -> Any:
        a, single = _images(x, type(self).__name__)
        flip = self._rng().random(a.shape[0]) < self.p
        out = a.copy()
        if flip.any():
            idx = np.flatnonzero(flip)
            if backend.array_module(a) is not np:
                idx = backend.array_module(a).asarray(idx)
            out[idx] = backend.array_module(a).flip(a[idx], axis=self._axis)
        return _out(out, single, x)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(p={self.p})"


class RandomVerticalFlip(RandomHorizontalFlip):
    """Mirror top-bottom (reverse the height axis) with probability ``p``."""

    _axis = -2


_INTERPOLATIONS = ("nearest", "bilinear")


def _sample(a: Any, inverse: Any, shift: Any, center: tuple[float, float] | None, fill: float,
            interpolation: str) -> Any:
    """Warp the batch ``a`` (N, C, H, W): output pixel p takes the input value at
    ``inverse[n] @ (p - c - shift[n]) + c`` (points (x, y), x rightwards, y downwards, c the
    centre). ``inverse`` (N, 2, 2) and ``shift`` (N, 2) are NumPy; the work runs on a's module.
    Nearest rounds to the closest pixel; bilinear blends the 4 neighbours. Out-of-image points
    read ``fill``."""
    xp = backend.array_module(a)
    n, _, h, w = a.shape
    cx, cy = ((w - 1) / 2, (h - 1) / 2) if center is None else center
    ys, xs = xp.meshgrid(xp.arange(h, dtype=backend.float64), xp.arange(w, dtype=backend.float64), indexing="ij")
    inv, t = xp.asarray(inverse), xp.asarray(shift)
    dx = xs[None] - cx - t[:, 0, None, None]                          # (N, H, W)
    dy = ys[None] - cy - t[:, 1, None, None]
    sx = inv[:, 0, 0, None, None] * dx + inv[:, 0, 1, None, None] * dy + cx
    sy = inv[:, 1, 0, None, None] * dx + inv[:, 1, 1, None, None] * dy + cy
    padded = xp.pad(a, ((0, 0), (0, 0), (1, 1), (1, 1)), constant_values=fill)   # a ring of fill
    sx, sy = xp.clip(sx + 1, 0, w + 1), xp.clip(sy + 1, 0, h + 1)     # in padded coordinates
    nidx = xp.arange(n)[:, None, None]
    if interpolation == "nearest":
        xi, yi = xp.rint(sx).astype(backend.int64), xp.rint(sy).astype(backend.int64)
        out = padded[nidx, :, yi, xi]                                 # (N, H, W, C)
    else:
        x0, y0 = xp.floor(sx).astype(backend.int64), xp.floor(sy).astype(backend.int64)
        x1, y1 = xp.minimum(x0 + 1, w + 1), xp.minimum(y0 + 1, h + 1)
        wx, wy = (sx - x0).astype(a.dtype)[..., None], (sy - y0).astype(a.dtype)[..., None]
        top = padded[nidx, :, y0, x0] * (1 - wx) + padded[nidx, :, y0, x1] * wx
        bottom = padded[nidx, :, y1, x0] * (1 - wx) + padded[nidx, :, y1, x1] * wx
        out = top * (1 - wy) + bottom * wy
    return xp.ascontiguousarray(out.transpose(0, 3, 1, 2))


def _rotation(theta: Any) -> Any:
    """(N, 2, 2) matrices turning points counter-clockwise *as displayed* (y points down) by theta."""
    c, s = np.cos(theta), np.sin(theta)
    return np.stack([np.stack([c, s], -1), np.stack([-s, c], -1)], -2)


def _check_geometry(interpolation: str, fill: Any, center: Any) -> tuple[str, float, tuple[float, float] | None]:
    if interpolation not in _INTERPOLATIONS:
        raise ValueError(f"interpolation must be one of {_INTERPOLATIONS}, got {interpolation!r}")
    if not _is_number(fill):
        raise TypeError(f"fill must be a number, got {fill!r}")
    if center is not None:
        try:
            cx, cy = (float(v) for v in center)
        except (TypeError, ValueError) as exc:
            raise TypeError(f"center must be a pair (x, y) of pixel coordinates, got {center!r}") from exc
        center = (cx, cy)
    return interpolation, float(fill), center


class RandomRotation(_Random):
    """Rotate by an angle drawn uniformly from ``degrees`` (a number d means (-d, d)), about
    the image centre; positive angles turn counter-clockwise, as in torchvision.

    Rotating a square image by exactly 90 degrees equals ``rot90``. ``interpolation`` is
    "nearest" (torchvision's default) or "bilinear"; corners that come from outside the
    image get ``fill``. ``expand=True`` is not supported.
    """

    def __init__(self, degrees: float | Sequence[float], interpolation: str = "nearest", expand: bool = False,
                 center: Sequence[float] | None = None, fill: float = 0, *, seed: int | None = None) -> None:
        super().__init__(seed)
        if expand:
            raise NotImplementedError("RandomRotation(expand=True) is not supported; the output keeps the input size")
        self.degrees = _pair(degrees, "degrees")
        self.interpolation, self.fill, self.center = _check_geometry(interpolation, fill, center)

    def __call__(self, x: Any) -> Any:
        a, single = _images(x, "RandomRotation")
        angles = self._rng().uniform(*self.degrees, size=a.shape[0])
        inverse = _rotation(-np.radians(angles))
        out = _sample(a, inverse, np.zeros((a.shape[0], 2)), self.center, self.fill, self.interpolation)
        return _out(out, single, x)

    def __repr__(self) -> str:
        return f"RandomRotation(degrees={self.degrees}, interpolation={self.interpolation!r})"


class RandomAffine(_Random):
    """Random rotation, translation, scale and shear about the centre, as torchvision's.

    degrees: angle range (a number d means (-d, d)); translate=(a, b): shifts up to a * W
    horizontally and b * H vertically, rounded to whole pixels; scale=(lo, hi): zoom factor;
    shear: x-shear angle range in degrees (a number s means (-s, s)), or four numbers for
    the x and y ranges. The output point p comes from the input point
    ``M^-1 (p - c - t) + c`` with M = scale * R(angle) * Shear.
    """

    def __init__(self, degrees: float | Sequence[float], translate: Sequence[float] | None = None,
                 scale: Sequence[float] | None = None, shear: float | Sequence[float] | None = None,
                 interpolation: str = "nearest", fill: float = 0, center: Sequence[float] | None = None, *,
                 seed: int | None = None) -> None:
        super().__init__(seed)
        self.degrees = _pair(degrees, "degrees")
        if translate is not None:
            tx, ty = _pair(translate, "translate")
            if not (0 <= tx <= 1 and 0 <= ty <= 1):
                raise ValueError(f"translate values must be fractions in [0, 1], got {translate!r}")
            self.translate: tuple[float, float] | None = (tx, ty)
        else:
            self.translate = None
        self.scale = None if scale is None else _pair(scale, "scale", minimum=1e-12)
        self.shear: tuple[float, float, float, float] | None = None
        if shear is not None:
            if isinstance(shear, (int, float, np.integer, np.floating)) or len(shear) == 2:
                self.shear = (*_pair(shear, "shear"), 0.0, 0.0)
            elif len(shear) == 4:
                self.shear = (*_pair(shear[:2], "shear"), *_pair(shear[2:], "shear"))
            else:
                raise ValueError(f"shear must be a number, a pair or four numbers, got {shear!r}")
        self.interpolation, self.fill, self.center = _check_geometry(interpolation, fill, center)

    def __call__(self, x: Any) -> Any:
        a, single = _images(x, "RandomAffine")
        n, _, h, w = a.shape
        rng = self._rng()
        theta = np.radians(rng.uniform(*self.degrees, size=n))
        shift = np.zeros((n, 2))
        if self.translate is not None:
            shift[:, 0] = np.round(rng.uniform(-self.translate[0] * w, self.translate[0] * w, size=n))
            shift[:, 1] = np.round(rng.uniform(-self.translate[1] * h, self.translate[1] * h, size=n))
        s = rng.uniform(*self.scale, size=n) if self.scale is not None else np.ones(n)
        shx = np.radians(rng.uniform(*self.shear[:2], size=n)) if self.shear else np.zeros(n)
        shy = np.radians(rng.uniform(*self.shear[2:], size=n)) if self.shear else np.zeros(n)
        shear = np.stack([np.stack([np.ones(n), np.tan(shx)], -1), np.stack([np.tan(shy), np.ones(n)], -1)], -2)
        forward = s[:, None, None] * (_rotation(theta) @ shear)
        out = _sample(a, np.linalg.inv(forward), shift, self.center, self.fill, self.interpolation)
        return _out(out, single, x)

    def __repr__(self) -> str:
        return (f"RandomAffine(degrees={self.degrees}, translate={self.translate}, scale={self.scale}, "
                f"shear={self.shear})")


def _padding(padding: Any) -> tuple[int, int, int, int]:
    """torchvision's padding: p (all sides), (lr, tb), or (left, top, right, bottom)."""
    if padding is None:
        return (0, 0, 0, 0)
    values = [padding] if _is_int(padding) else list(padding)
    if len(values) not in (1, 2, 4) or not all(_is_int(v) and v >= 0 for v in values):
        raise ValueError(f"padding must be a non-negative int or a sequence of 2 or 4 of them, got {padding!r}")
    values = [int(v) for v in values]
    if len(values) == 1:
        return (values[0],) * 4  # type: ignore[return-value]
    if len(values) == 2:
        return (values[0], values[1], values[0], values[1])
    return tuple(values)  # type: ignore[return-value]


_PADDING_MODES = {"constant": "constant", "edge": "edge", "reflect": "reflect", "symmetric": "symmetric"}


class RandomCrop(_Random):
    """Pad by ``padding`` (see torchvision: p, (lr, tb) or (l, t, r, b)), then cut a random
    ``size`` = (h, w) window (an int means square). With ``padding=p`` and ``size`` equal to
    the image size this is the classic "shift by up to p pixels" augmentation: the shape is
    kept. ``pad_if_needed`` pads images smaller than ``size``; ``padding_mode`` is
    "constant" (with ``fill``), "edge", "reflect" or "symmetric".
    """

    def __init__(self, size: int | Sequence[int], padding: Any = None, pad_if_needed: bool = False,
                 fill: float = 0, padding_mode: str = "constant", *, seed: int | None = None) -> None:
        super().__init__(seed)
        sizes = [size] if isinstance(size, (int, np.integer)) else list(size)
        if len(sizes) == 1:
            sizes = sizes * 2
        if len(sizes) != 2 or not all(_is_int(v) and v > 0 for v in sizes):
            raise ValueError(f"size must be a positive int or a pair (h, w), got {size!r}")
        if padding_mode not in _PADDING_MODES:
            raise ValueError(f"padding_mode must be one of {sorted(_PADDING_MODES)}, got {padding_mode!r}")
        self.size = (int(sizes[0]), int(sizes[1]))
        self.padding = _padding(padding)
        self.pad_if_needed, self.padding_mode = bool(pad_if_needed), padding_mode
        self.fill = _check_geometry("nearest", fill, None)[1]

    def __call__(self, x: Any) -> Any:
        a, single = _images(x, "RandomCrop")
        xp = backend.array_module(a)
        left, top, right, bottom = self.padding
        h, w = self.size
        hp, wp = a.shape[2] + top + bottom, a.shape[3] + left + right
        if self.pad_if_needed:
            extra_h, extra_w = max(0, h - hp), max(0, w - wp)
            top, bottom, left, right = top + extra_h, bottom + extra_h, left + extra_w, right + extra_w
            hp, wp = hp + 2 * extra_h, wp + 2 * extra_w
        if h > hp or w > wp:
            raise ValueError(f"RandomCrop: crop size {self.size} is larger than the padded image ({hp}, {wp}); "
                             "pass a larger padding or pad_if_needed=True")
        widths = ((0, 0), (0, 0), (top, bottom), (left, right))
        if self.padding_mode == "constant":
            padded = xp.pad(a, widths, mode="constant", constant_values=self.fill)
        else:
            padded = xp.pad(a, widths, mode=self.padding_mode)
        rng, n = self._rng(), a.shape[0]
        i = rng.integers(0, hp - h + 1, size=n)
        j = rng.integers(0, wp - w + 1, size=n)
        rows = xp.asarray(i[:, None] + np.arange(h))                  # (N, h)
        cols = xp.asarray(j[:, None] + np.arange(w))                  # (N, w)
        out = padded[xp.arange(n)[:, None, None], :, rows[:, :, None], cols[:, None, :]]   # (N, h, w, C)
        return _out(xp.ascontiguousarray(out.transpose(0, 3, 1, 2)), single, x)

    def __repr__(self) -> str:
        return f"RandomCrop(size={self.size}, padding={self.padding})"


class ColorJitter(_Random):
    """Random brightness and contrast, as torchvision's (for images in [0, 1]).

    brightness b: x * f with f uniform in [max(0, 1 - b), 1 + b] (or a given (lo, hi));
    contrast c: f * x + (1 - f) * mean(gray(x)), f drawn the same way, which keeps the mean
    grey level. Each result is clipped to [0, 1]. Brightness is applied first (torchvision
    picks a random order). ``saturation`` and ``hue`` are not supported (must be 0).
    """

    def __init__(self, brightness: float | Sequence[float] = 0, contrast: float | Sequence[float] = 0,
                 saturation: float = 0, hue: float = 0, *, seed: int | None = None) -> None:
        super().__init__(seed)
        if saturation or hue:
            raise NotImplementedError("ColorJitter: saturation and hue are not supported; leave them at 0")
        self.brightness = self._factor_range(brightness, "brightness")
        self.contrast = self._factor_range(contrast, "contrast")

    @staticmethod
    def _factor_range(value: Any, name: str) -> tuple[float, float] | None:
        if _is_number(value):
            b = _finite(value, name, minimum=0.0)
            return None if b == 0 else (max(0.0, 1.0 - b), 1.0 + b)
        lo, hi = _pair(value, name, minimum=0.0)
        return None if lo == hi == 1 else (lo, hi)

    def __call__(self, x: Any) -> Any:
        a, single = _images(x, "ColorJitter")
        xp, rng, n = backend.array_module(a), self._rng(), a.shape[0]
        if self.brightness is not None:
            f = xp.asarray(rng.uniform(*self.brightness, size=n).astype(a.dtype)).reshape(-1, 1, 1, 1)
            a = xp.clip(a * f, 0, 1)
        if self.contrast is not None:
            c = a.shape[1]
            if c == 3:
                gray = 0.2989 * a[:, 0] + 0.587 * a[:, 1] + 0.114 * a[:, 2]
            elif c == 1:
                gray = a[:, 0]
            else:
                raise ValueError(f"ColorJitter(contrast=...) needs 1 or 3 channels, got {c}")
            mean = gray.reshape(n, -1).mean(axis=1).astype(a.dtype).reshape(-1, 1, 1, 1)
            f = xp.asarray(rng.uniform(*self.contrast, size=n).astype(a.dtype)).reshape(-1, 1, 1, 1)
            a = xp.clip(f * a + (1 - f) * mean, 0, 1)
        return _out(a, single, x)

    def __repr__(self) -> str:
        return f"ColorJitter(brightness={self.brightness}, contrast={self.contrast})"


class GaussianNoise(_Random):
    """x + mean + std * z with z ~ N(0, 1) drawn afresh for every pixel; ``clip=True`` clips
    to [0, 1]. (torchvision.transforms.v2 spells it GaussianNoise(mean, sigma, clip=True).)"""

    def __init__(self, std: float = 0.1, mean: float = 0.0, clip: bool = False, *, seed: int | None = None) -> None:
        super().__init__(seed)
        self.std, self.mean = _finite(std, "std", minimum=0.0), _finite(mean, "mean")
        self.clip = bool(clip)

    def __call__(self, x: Any) -> Any:
        a, single = _images(x, "GaussianNoise")
        xp, rng = backend.array_module(a), self._rng()
        dtype = a.dtype if a.dtype in (backend.float32, backend.float64) else backend.float32
        if xp is np:
            z = rng.standard_normal(a.shape, dtype=dtype)
        else:  # the noise is drawn on the device, from a generator seeded by this one
            z = xp.random.default_rng(int(rng.integers(2**62))).standard_normal(a.shape, dtype=dtype)
        out = a + (self.mean + self.std * z).astype(a.dtype)
        return _out(xp.clip(out, 0, 1) if self.clip else out, single, x)

    def __repr__(self) -> str:
        return f"GaussianNoise(std={self.std}, mean={self.mean}, clip={self.clip})"


def tta_predict(model: Callable[[Any], Any], x: Any, transforms: Sequence[Callable[[Any], Any]]) -> md.Tensor:
    """Test-time augmentation: the mean of softmax(model(t(x))) over the ``transforms``.

    x is a batch (N, C, H, W) (Tensor or array); returns class probabilities (N, classes) as
    a Tensor. Runs without gradients, with the model in eval mode (restored afterwards).
    With the transforms {identity, horizontal flip} the prediction is exactly the same for
    an image and its mirror image.
    """
    transforms = list(transforms)
    if not transforms:
        raise ValueError("tta_predict needs at least one transform (e.g. [lambda x: x])")
    if to_array(x, "x").ndim != 4:
        raise ValueError(f"tta_predict expects a batch (N, C, H, W), got shape {tuple(to_array(x).shape)}")
    xt = x if isinstance(x, md.Tensor) else md.as_tensor(to_array(x))
    was_training = getattr(model, "training", None)
    if was_training is not None:
        model.eval()  # type: ignore[attr-defined]
    try:
        with md.no_grad():
            total = None
            for t in transforms:
                out = t(xt)
                probs = model(out if isinstance(out, md.Tensor) else md.as_tensor(out)).softmax(-1)
                total = probs if total is None else total + probs
    finally:
        if was_training is not None:
            model.train(was_training)  # type: ignore[attr-defined]
    assert total is not None
    return total / len(transforms)
