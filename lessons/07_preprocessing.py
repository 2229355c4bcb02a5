# %% [markdown]
# # Lesson 07: Data preprocessing: centring, scaling, PCA and whitening
#
# And why it speeds up training. The "Deep Learning Crash Course" deck's recipe on an N x D data
# matrix X (one row per example):
#
#     centring          X <- X - mean(X, axis=0)
#     standardising     X <- (X - mean) / std                    every feature: mean 0, std 1
#     mean normalising  X <- (X - mean) / (max - min)            mean 0, range exactly 1
#     min-max scaling   X <- (X - min) / (max - min)             values in [0, 1]
#     PCA               C = X^T X / N = V diag(E) V^T,  X <- X V   decorrelated: cov = diag(E)
#     whitening         X <- X V / sqrt(E + eps)                 cov = identity
#
# Every statistic (mean, std, min, max, V, E) is fitted on the *training* set only and applied
# unchanged to dev/test/inference data. Well-scaled, decorrelated inputs make the least-squares
# loss surface round (condition number near 1), so gradient descent needs far fewer steps.
#
# Each step is a transformer of `minidl.data` with scikit-learn's methods (`fit` on the training
# set, then `transform` on any data): `StandardScaler` (with `with_std=False` it only centres),
# `MeanNormalizer`, `MinMaxScaler`, `PCA` (eigenvalues sorted, largest first), `PCA(whiten=True)`
# and `ZCAWhitening(eps)`; `Normalize(mean, std)` is torchvision's per-channel transform.
# One convention differs from the deck: like scikit-learn, minidl's PCA estimates the covariance
# with 1/(N - 1), so its `explained_variance_` is the deck's eigenvalue of X^T X / N times
# N/(N - 1) (0.05% more at N = 2000); the eigenvectors are the same. The tables below keep the
# deck's 1/N covariance.
#
# Run: `python -m lessons run 07` (add `--quick` for small sizes).

# %%
import sys
from pathlib import Path

# Make `lessons` and `minidl` importable wherever this runs: as a script, under the runner, or as a
# notebook (which has no __file__ and runs in this folder or the repository root).
_start = Path(globals().get("__file__", "")).resolve()
_root = next((p for p in (_start, *_start.parents) if (p / "lessons" / "_lesson.py").is_file()), None)
if _root is None:
    raise RuntimeError(f"run this lesson from inside the minidl repository (no lessons/_lesson.py above {_start})")
sys.path.insert(0, str(_root))

import matplotlib.pyplot as plt
import numpy as np

import minidl as md
import minidl.data as data
from lessons._lesson import Lesson, plural


def cov(X: np.ndarray, ddof: int = 0) -> np.ndarray:
    """Covariance X_c^T X_c / (N - ddof) with the data's own mean removed: ddof=0 is the deck's
    X^T X / N, ddof=1 the estimate minidl's PCA and ZCAWhitening (and scikit-learn) use."""
    Xc = X - X.mean(axis=0)
    return Xc.T @ Xc / (X.shape[0] - ddof)


def gd_iterations(X: np.ndarray, y: np.ndarray, tol: float, max_iter: int) -> tuple[int, list[float], float]:
    """Gradient descent on J(w) = |X w - y|^2 / (2N) with step 1/lambda_max(H), H = X^T X / N.

    Returns (iterations until J - J* <= tol (J0 - J*), or max_iter), the suboptimality curve, and
    the condition number kappa = lambda_max / lambda_min of H (GD needs about kappa log(1/tol) steps).
    """
    n = X.shape[0]
    H = X.T @ X / n
    lam = np.linalg.eigvalsh(H)
    w_star = np.linalg.solve(H, X.T @ y / n)
    j_star = 0.5 * np.mean((X @ w_star - y) ** 2)
    w = np.zeros(X.shape[1])
    lr = 1.0 / lam[-1]
    gap0 = 0.5 * np.mean((X @ w - y) ** 2) - j_star
    curve = []
    for it in range(1, max_iter + 1):
        w -= lr * (X.T @ (X @ w - y) / n)
        gap = 0.5 * np.mean((X @ w - y) ** 2) - j_star
        curve.append(max(gap / gap0, 1e-16))
        if gap <= tol * gap0:
            return it, curve, float(lam[-1] / lam[0])
    return max_iter, curve, float(lam[-1] / lam[0])


# %%
L = Lesson("07_preprocessing", "Data preprocessing: centring, scaling, PCA and whitening")
n_train, n_test = (300, 100) if L.quick else (2000, 500)
rng = L.rng
mean_true = np.array([6.0, -3.0])
C_true = np.array([[9.0, 5.0], [5.0, 4.0]])  # strongly correlated (rho = 0.83), different scales
A = np.linalg.cholesky(C_true)
Xtr = mean_true + rng.standard_normal((n_train, 2)) @ A.T
Xte = mean_true + rng.standard_normal((n_test, 2)) @ A.T


# %% [markdown]
# ## 1. Centring and standardising (PRE-1)

# %%
L.section("1. Centring and standardising, with statistics from the training set")
centring = data.StandardScaler(with_std=False).fit(Xtr)  # fit: the training set's statistics
scaler = data.StandardScaler().fit(Xtr)
mu, sd = scaler.mean_, scaler.scale_                      # per feature, std with 1/N
Xc, Xs = centring.transform(Xtr), scaler.transform(Xtr)
img = rng.uniform(0, 1, size=64)
# per-instance standardising is StandardScaler on one example's own values (its pixels as the samples)
inst = lambda v: data.StandardScaler().fit_transform(v.reshape(-1, 1)).ravel()  # noqa: E731
gain_diff = float(np.abs(inst(img) - inst(3.0 * img)).max())
L.claim("PRE-1", np.abs(Xc.mean(0)).max() < 1e-12 and np.abs(Xs.mean(0)).max() < 1e-12
        and np.abs(Xs.std(0) - 1).max() < 1e-12 and gain_diff < 1e-12,
        "centring gives zero column means, standardising also unit stds; per-instance standardising "
        "removes a global gain (x3 brightness gives the same output)",
        max_abs_mean=float(np.abs(Xs.mean(0)).max()), max_std_err=float(np.abs(Xs.std(0) - 1).max()),
        gain_x3_diff=gain_diff)


# %% [markdown]
# ## 2. Mean normalisation and min-max scaling (PRE-2)

# %%
L.section("2. Mean normalisation vs min-max scaling")
Xmn = data.MeanNormalizer().fit(Xtr).transform(Xtr)   # the deck's "(X - mean)/(max - min)"
Xmm = data.MinMaxScaler().fit(Xtr).transform(Xtr)     # min-max scaling (X - min)/(max - min)
pix = rng.integers(0, 256, size=(8, 8)).astype(np.float64)
rows = [["(X - mean)/(max - min)", *Xmn.mean(0), *np.ptp(Xmn, 0), Xmn.min(), Xmn.max()],
        ["(X - min)/(max - min)", *Xmm.mean(0), *np.ptp(Xmm, 0), Xmm.min(), Xmm.max()],
        ["X / max(X), raw 2-D cloud", *(Xtr / Xtr.max()).mean(0), *np.ptp(Xtr / Xtr.max(), 0),
         (Xtr / Xtr.max()).min(), (Xtr / Xtr.max()).max()]]
L.table("scalings", ["scaling", "mean x1", "mean x2", "range x1", "range x2", "min", "max"], rows,
        caption="Three scalings on the training cloud")
L.claim("PRE-2", np.abs(Xmn.mean(0)).max() < 1e-12 and np.abs(np.ptp(Xmn, 0) - 1).max() < 1e-12
        and Xmn.min() >= -1 and Xmn.max() <= 1 and (pix / pix.max()).min() >= 0 and (pix / pix.max()).max() == 1,
        "(X - mean)/(max - min) gives zero mean and range exactly 1; "
        "X/max(X) maps a non-negative image into [0, 1]",
        range_err=float(np.abs(np.ptp(Xmn, 0) - 1).max()), image_min=float((pix / pix.max()).min()))
L.slip("crash-course", 'scaling: "(X - mean)/(max - min)" presented as scaling to a range, and '
       '"X = X/np.max(X) <- scale '
       'image to be [0, 1]"',
       "(X - mean)/(max - min) is mean normalisation (zero mean, range 1, values in [-1, 1]; here "
       f"[{Xmn.min():.2f}, {Xmn.max():.2f}]); min-max scaling is (X - min)/(max - min) in [0, 1]. X/max(X) "
       f"is in [0, 1] only for non-negative data: on this cloud it gives [{(Xtr / Xtr.max()).min():.2f}, 1]")

fig, axes = plt.subplots(1, 4, figsize=(17, 4.6))
scalings = [("Original", Xtr), ("Standardised (X - mean) / std", Xs),
            ("Min-max (X - min) / (max - min)", Xmm), ("Mean norm. (X - mean) / (max - min)", Xmn)]
# the three scaled clouds share one pair of axes, so that their different ranges show (the original,
# in its own units, has its own); a dashed box marks each cloud's range
shared = 1.1 * max(float(np.abs(Z).max()) for _, Z in scalings[1:])
for ax, (title, Z) in zip(axes, scalings):
    ax.scatter(Z[:, 0], Z[:, 1], s=5, alpha=0.35)
    lo_z, hi_z = Z.min(axis=0), Z.max(axis=0)
    ax.add_patch(plt.Rectangle(lo_z, *(hi_z - lo_z), fill=False, ls="--", lw=1, ec="C3"))
    if ax is not axes[0]:
        ax.set(xlim=(-shared, shared), ylim=(-shared, shared))
    ax.set_aspect("equal", adjustable="box" if ax is not axes[0] else "datalim")
    ax.axhline(0, color="0.6", lw=0.8)
    ax.axvline(0, color="0.6", lw=0.8)
    ax.set_title(title, fontsize=11)
    ax.set_xlabel("feature 1")
    ax.set_ylabel("feature 2")
    ax.grid(alpha=0.3)
    ax.text(0.02, 0.98, f"x1 in [{Z[:, 0].min():.2f}, {Z[:, 0].max():.2f}]\nx2 in [{Z[:, 1].min():.2f}, "
            f"{Z[:, 1].max():.2f}]", transform=ax.transAxes, va="top", fontsize=9,
            bbox=dict(fc="white", ec="0.7", alpha=0.9))
fig.tight_layout()
L.figure(fig, "scalings", caption="the same training cloud standardised, min-max scaled and mean-normalised; "
         "the three scaled clouds share one pair of axes, dashed boxes mark each range (scaling changes the "
         "ranges, not the correlation)")


# %% [markdown]
# ## 3. PCA and whitening (PRE-3, PRE-4)

# %%
L.section("3. PCA (decorrelation, reduction) and whitening")
pca = data.PCA().fit(Xtr)                   # every component: X V, eigenvalues sorted largest first
white = data.PCA(whiten=True).fit(Xtr)      # X V / sqrt(E)
Xp, Xw = pca.transform(Xtr), white.transform(Xtr)
n_over = (n_train - 1) / n_train            # the deck's eigenvalues (1/N) = explained_variance_ (1/(N-1)) * (N-1)/N
E = pca.explained_variance_ * n_over
Cp, Cw = cov(Xp), cov(Xw)
# dimension reduction on a 10-D correlated set: kept variance = sum of the top-K eigenvalues
D, K = 10, 3
B = rng.standard_normal((D, D)) * np.linspace(3, 0.1, D)
X10 = rng.standard_normal((n_train, D)) @ B.T
p10 = data.PCA(n_components=K).fit(X10)     # keeps the top K components
kept = float(np.trace(cov(p10.transform(X10))))
E_eig = np.linalg.eig(cov(X10))[0].real
eig_sorted = bool(np.all(np.diff(E_eig) <= 0))
L.table("pca_covariances", ["data", "cov[0,0]", "cov[0,1]", "cov[1,1]"],
        [["centred", *cov(Xc)[0], cov(Xc)[1, 1]], ["PCA-projected", *Cp[0], Cp[1, 1]],
         ["whitened", *Cw[0], Cw[1, 1]]],
        caption=f"Covariance X^T X / N (the deck's) after each step (train set); PCA(whiten=True) makes the "
                f"1/(N - 1) covariance the identity, so the whitened diagonal here is (N - 1)/N = {n_over:.4g}")
kept_fraction = kept / float(np.trace(cov(X10)))
L.claim("PRE-3", abs(Cp[0, 1]) < 1e-10 * E[0] and np.allclose(np.diag(Cp), E, rtol=1e-10)
        and np.all(np.diff(pca.explained_variance_) <= 0)
        and abs(kept - p10.explained_variance_.sum() * n_over) < 1e-9 * kept
        and abs(kept_fraction - p10.explained_variance_ratio_.sum()) < 1e-9 and kept_fraction > 0.5,
        "projecting onto the eigenvectors decorrelates (cov = diag(E)); keeping the top K keeps the "
        "most variance (sum of the top-K eigenvalues)",
        offdiag=float(Cp[0, 1]), kept_fraction_top3_of_10=kept_fraction)
L.note(f"minidl's PCA reports explained_variance_ = {np.round(pca.explained_variance_, 4).tolist()} (covariance "
       f"with 1/(N - 1), as scikit-learn); the deck's X^T X / N has the eigenvalues E = explained_variance_ "
       f"(N - 1)/N = {np.round(E, 4).tolist()}, the diagonal of the PCA-projected covariance in the table. "
       f"The ratios do not depend on the convention: the top {K} of the 10-D set keep "
       f"{p10.explained_variance_ratio_.sum():.1%} of the variance.")
# PCA(whiten=True) divides by sqrt(explained_variance_): the 1/(N - 1) covariance becomes exactly I (and
# the deck's 1/N one (N - 1)/N I, the whitened row of the table). ZCAWhitening guards with eps instead:
# its diagonal is E / (E + eps) = 1 - eps / E, off by at most eps / E_min, and it rotates back (W = W^T).
zca = data.ZCAWhitening(eps=1e-5).fit(Xtr)
Cw1, Cz1 = cov(Xw, ddof=1), cov(zca.transform(Xtr), ddof=1)
eps_over_emin = zca.eps / float(zca.eigenvalues_.min())
L.claim("PRE-4", np.abs(Cw1 - np.eye(2)).max() < 1e-10 and np.abs(Cw - n_over * np.eye(2)).max() < 1e-10,
        "dividing the projected columns by sqrt(eigenvalue) makes the covariance the identity "
        "(PCA(whiten=True): the 1/(N - 1) covariance is I; the deck's 1/N one (N - 1)/N I)",
        max_abs_cov_minus_I=float(np.abs(Cw1 - np.eye(2)).max()), one_over_N_diagonal=float(Cw[0, 0]))
L.claim("PRE-4", np.abs(Cz1 - np.eye(2)).max() <= 1.01 * eps_over_emin
        and np.allclose(zca.whitening_, zca.whitening_.T, atol=1e-12),
        "ZCA whitening (rotated back onto the original axes) also makes the covariance the identity, "
        "up to eps / E_min with the eps guard",
        max_abs_cov_minus_I=float(np.abs(Cz1 - np.eye(2)).max()), eps_over_Emin=eps_over_emin)
slide_diag = Xp.diagonal()  # the slide's X.diagonal(): entries X[0, 0], X[1, 1] of the data matrix
L.slip("crash-course", "PCA code: [E, V] = np.linalg.eig(...); X[:, 0:K] as the top K; "
       "whitening X / np.sqrt(X.diagonal()); "
       "keeping the top K called whitening",
       "np.linalg.eig does not sort eigenvalues (on the 10-D example its order is "
       f"{'descending' if eig_sorted else 'not descending'}: {np.round(E_eig, 1).tolist()}), so use "
       "E, V = np.linalg.eigh(C) (NumPy syntax, not MATLAB's [E, V]) and sort descending, as "
       "minidl.data.PCA does; whiten with "
       "X / np.sqrt(E + eps) (X.diagonal() is the diagonal of the N x D data matrix, here "
       f"{np.round(slide_diag, 2).tolist()}: two data values, not eigenvalues, and a negative one has no "
       "square root); keeping the top K is "
       "dimension reduction, not whitening")


# %% [markdown]
# ## 4. The four transforms side by side
# Test points are transformed with the training statistics.

# %%
fig, axes = plt.subplots(1, 4, figsize=(17, 4.6))
panels = [("Original data", Xtr, Xte), ("Zero-centred (train mean)", Xc, centring.transform(Xte)),
          ("Decorrelated (PCA: X V)", Xp, pca.transform(Xte)),
          ("Whitened (PCA whiten: X V / sqrt(E))", Xw, white.transform(Xte))]
for ax, (title, tr, te) in zip(axes, panels):
    ax.scatter(tr[:, 0], tr[:, 1], s=6, alpha=0.35, label="train (fitted on)")
    ax.scatter(te[:, 0], te[:, 1], s=8, alpha=0.7, marker="x", label="test (train statistics)")
    ax.axhline(0, color="0.6", lw=0.8)
    ax.axvline(0, color="0.6", lw=0.8)
    ax.set_aspect("equal", adjustable="datalim")
    ax.set_title(title)
    ax.set_xlabel("feature 1" if ax is axes[0] or ax is axes[1] else "component 1")
    ax.set_ylabel("feature 2" if ax is axes[0] or ax is axes[1] else "component 2")
    ax.grid(alpha=0.3)
axes[0].legend(loc="upper left", fontsize=8, markerscale=2)
fig.tight_layout()
L.figure(fig, "pca_whitening_four_panels",
         caption="original, centred, PCA-decorrelated and whitened data (test set uses train statistics)")


# %% [markdown]
# ## 5. Train-only statistics (PRE-5)

# %%
L.section("5. Statistics fitted on train, applied unchanged to test")
Xte_s = scaler.transform(Xte)
Xte_w = white.transform(Xte)
rows = [["standardised", *Xs.mean(0), *Xs.std(0), *Xte_s.mean(0), *Xte_s.std(0)],
        ["whitened", *Xw.mean(0), *Xw.std(0), *Xte_w.mean(0), *Xte_w.std(0)]]
L.table("train_vs_test_stats", ["transform", "train mean 1", "train mean 2", "train std 1", "train std 2",
                                "test mean 1", "test mean 2", "test std 1", "test std 2"], rows,
        caption="Train statistics are exactly 0/1 by construction (the whitened stds, with 1/N, are "
                f"sqrt((N - 1)/N) = {np.sqrt(n_over):.4g}: PCA whitens the 1/(N - 1) covariance); test statistics "
                "are close but not exact")
test_dev = float(max(np.abs(Xte_s.mean(0)).max(), np.abs(Xte_s.std(0) - 1).max()))
stored = (np.allclose(Xte_w, (Xte - Xtr.mean(0)) @ white.components_.T / np.sqrt(white.explained_variance_))
          and np.allclose(Xte_s, (Xte - Xtr.mean(0)) / Xtr.std(0))
          and scaler.n_samples_seen_ == white.n_samples_seen_ == n_train)
L.claim("PRE-5", stored and np.abs(Xs.mean(0)).max() < 1e-12 and 1e-6 < test_dev < 4.0 / np.sqrt(n_test),
        "the transform stores train statistics and applies them unchanged: test mean/std are close to 0/1 "
        "but not exactly",
        test_max_deviation=test_dev, n_test=n_test)


# %% [markdown]
# ## 6. Conditioning and gradient descent (PRE-6)

# %%
L.section("6. Condition number and gradient-descent iterations (least squares)")
n6 = n_train
f1 = 50.0 + 10.0 * rng.standard_normal(n6)              # large offset and scale
f2 = 0.1 * f1 + 0.5 * rng.standard_normal(n6)          # correlated with f1, small scale
F = np.stack([f1, f2], axis=1)
y6 = 0.3 * f1 - 2.0 * f2 + 1.0 + 0.1 * rng.standard_normal(n6)
ones = np.ones((n6, 1))
designs = {"raw features": np.hstack([F, ones]),
           "standardised": np.hstack([data.StandardScaler().fit_transform(F), ones]),
           "whitened": np.hstack([data.PCA(whiten=True).fit_transform(F), ones])}
max_iter = 5_000 if L.quick else 50_000
tol = 1e-6
results = {k: gd_iterations(Xd, y6, tol, max_iter) for k, Xd in designs.items()}
rows = [[k, kappa, kappa * np.log(1 / tol), it if it < max_iter else f">{max_iter}", curve[-1]]
        for k, (it, curve, kappa) in results.items()]
L.table("conditioning", ["inputs", "condition number of X^T X / N", "estimate kappa ln(1/tol)",
                         "GD iterations to 1e-6", "final J - J* (rel.)"],
        rows, caption="Least squares y ~ w1 f1 + w2 f2 + b, gradient descent with step 1/lambda_max")
it_raw, it_std, it_white = (results[k][0] for k in designs)
k_raw, k_std, k_white = (results[k][2] for k in designs)
L.claim("PRE-6", k_raw > 1e3 * k_std and k_std > k_white and it_raw > 10 * it_std and it_std > it_white,
        "raw, correlated, differently-scaled features are ill-conditioned and slow; standardising and "
        "whitening cut the condition number and the iterations",
        kappa_raw=k_raw, kappa_std=k_std, kappa_white=k_white, iters_raw=it_raw, iters_std=it_std,
        iters_white=it_white)
fig, ax = plt.subplots(figsize=(7.5, 4.6))
for k, (it, curve, kappa) in results.items():
    pts = [1.0] + curve  # iteration 0 (w = 0) has relative gap 1
    ax.semilogy(np.arange(1, len(pts) + 1), pts, marker="o" if len(pts) < 5 else None,
                label=f"{k} (condition number {kappa:.3g}): "
                      + (plural(it, "step") if it < max_iter else f">{max_iter} steps"))
ax.axhline(tol, color="k", ls=":", lw=1, label=f"tolerance {tol:g}")
ax.set_xscale("log")
ax.set_title("Gradient descent on least squares: preprocessing and speed")
ax.set_xlabel("iteration + 1 (log scale)")
ax.set_ylabel("(J - J*) / (J0 - J*) (log scale)")
ax.legend(fontsize=9)
ax.grid(alpha=0.3, which="major")
fig.tight_layout()
L.figure(fig, "gd_conditioning", caption="relative loss gap vs iteration for raw, standardised and whitened inputs")


# %% [markdown]
# ## 7. Normalize(mean, std) per channel (PRE-7)

# %%
L.section("7. transforms.Normalize per channel")
ramp = md.tensor(np.linspace(0.0, 1.0, 3 * 2 * 5).reshape(3, 2, 5).astype(np.float32))
out = data.Normalize((0.5, 0.5, 0.5), (0.1, 0.1, 0.1))(ramp)
imnet_mean, imnet_std = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)
px = md.tensor(np.array([0.0, 128.0, 255.0], dtype=np.float32)).reshape(1, 1, 3).broadcast_to(3, 1, 3) / 255.0
imnet = data.Normalize(imnet_mean, imnet_std)(px).numpy()
rows = [[c, imnet_mean[c], imnet_std[c], *imnet[c, 0]] for c in range(3)]
L.table("imagenet_normalize", ["channel", "mean", "std", "pixel 0", "pixel 128", "pixel 255"], rows,
        caption="ImageNet Normalize on x/255: where black, mid-grey and white pixels land")
expect = (np.array([0.0, 1.0])[:, None] - np.array(imnet_mean)) / np.array(imnet_std)
L.claim("PRE-7", abs(float(out.numpy().min()) + 5) < 1e-5 and abs(float(out.numpy().max()) - 5) < 1e-5
        and out.dtype == md.float32 and np.allclose(imnet[:, 0, [0, 2]].T, expect, atol=1e-5),
        "Normalize(0.5, 0.1) sends [0, 1] to [-5, 5]; ImageNet constants on x/255 as in the Training Tips deck",
        out_min=float(out.numpy().min()), out_max=float(out.numpy().max()), white_red=float(imnet[0, 0, 2]))
L.slip("training-tips",
       "transform demo: Normalize(mean 0.5, std 0.1) followed by ToPILImage shown as the normalised image",
       "the normalised values lie in [-5, 5], outside the valid pixel range, so ToPILImage's picture is not "
       "a faithful view of the normalised tensor")


# %% [markdown]
# ## Summary
# `L.finish()` prints every claim with its result and fails the lesson if any did not hold.

# %%
L.finish()
