# %% [markdown]
# # Lesson 09: Bias, variance and how to split the data
#
# The "Deep Learning Training Tips" deck fits hours studied against exam score with a straight line
# and with a flexible curve; the "Experimental methodology" deck treats the polynomial degree as a
# capacity knob; the "Deep Learning Crash Course" splits data into train, train-dev, dev and test and
# reads the gaps between their errors. This lesson measures all of it:
#
# - the line (high bias) against the squiggle (high variance), and the training error against the
#   degree, which never rises, so the degree must be chosen on held-out data;
# - bias^2 + variance + noise, estimated by redrawing the training set hundreds of times;
# - the regimes for a target error, the gap against the training-set size, and the optimism of a
#   validation set that picked the best of many configurations;
# - the crash course's split table, a train-dev set under a domain shift, error analysis, its
#   bias/variance table, and the standard error of an accuracy against k-fold cross-validation.
#
# The polynomial fits solve the least-squares normal equations: the Gram matrix P^T P and P^T y are
# minidl matmuls, the small (degree + 1)^2 solve is NumPy's (minidl has no linear solver). The
# classifiers are trained with `minidl.train.fit`.
#
# Run: `python -m lessons run 09` (or `python lessons/09_bias_variance_and_splits.py --quick --out /tmp/l09`).

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

import math
from typing import Any

import matplotlib.pyplot as plt
import numpy as np

import minidl as md
import minidl.data as data
import minidl.nn as nn
import minidl.optim as optim
from lessons._lesson import Lesson
from minidl import metrics, train

NOISE = 5.0  # the score's noise std (make_hours_scores' default): sigma^2 = 25 is the error floor


def design(hours: Any, degree: int) -> np.ndarray:
    """Polynomial features of degree ``degree``: Legendre polynomials of t = hours/5 - 1 in [-1, 1]
    (the same function space as 1, h, ..., h^degree, but far better conditioned)."""
    return np.polynomial.legendre.legvander(np.asarray(hours, dtype=np.float64) / 5.0 - 1.0, degree)


def normal_equations(hours: Any, scores: Any, degree: int) -> tuple[np.ndarray, np.ndarray]:
    """P^T P and P^T y for P = design(hours, degree) (minidl matmuls). The features are nested, so the
    leading (k, k) block and k entries are those of degree k - 1."""
    P = md.tensor(design(hours, degree))
    return (P.T @ P).data, (P.T @ md.tensor(np.asarray(scores, dtype=np.float64))).data


def solve(gram: np.ndarray, rhs: np.ndarray, degree: int, ridge: float = 0.0) -> np.ndarray:
    """Least squares of degree ``degree``: w = (P^T P + ridge I)^-1 P^T y, from the leading block."""
    k = degree + 1
    return np.linalg.solve(gram[:k, :k] + ridge * np.eye(k), rhs[:k])


def fit_poly(hours: Any, scores: Any, degree: int, ridge: float = 0.0) -> np.ndarray:
    return solve(*normal_equations(hours, scores, degree), degree, ridge)


def column_mse(W: np.ndarray, hours: Any, scores: Any) -> np.ndarray:
    """The MSE of every column of W (coefficients of degree len(W) - 1, zero-padded) on (hours, scores)."""
    pred = (md.tensor(design(hours, W.shape[0] - 1)) @ md.tensor(W)).data
    return ((pred - np.asarray(scores)[:, None]) ** 2).mean(axis=0)


def predict_poly(w: np.ndarray, hours: Any) -> np.ndarray:
    return (md.tensor(design(hours, len(w) - 1)) @ md.tensor(w)).data


def mse(w: np.ndarray, hours: Any, scores: Any) -> float:
    return float(np.mean((predict_poly(w, hours) - scores) ** 2))


def sse(w: np.ndarray, hours: Any, scores: Any) -> float:
    return float(np.sum((predict_poly(w, hours) - scores) ** 2))


def regime(train_error: float, test_error: float, eps: float) -> str:
    """The Training Tips deck's reading of a model against a target error eps."""
    if train_error > eps:
        return "high bias: a more complex model, more features"
    if test_error > eps:
        return "high variance: more data, a simpler model"
    return "on target"


def loader(X: Any, y: Any, batch_size: int = 64, shuffle: bool = True, seed: int = 0) -> data.DataLoader:
    return data.DataLoader(data.TensorDataset(X, y), batch_size=batch_size, shuffle=shuffle, seed=seed)


def train_classifier(X: Any, y: Any, hidden: int, classes: int, epochs: int, lr: float = 0.01,
                     batch_size: int = 64) -> nn.Module:
    model = nn.Sequential(nn.Linear(X.shape[1], hidden), nn.ReLU(), nn.Linear(hidden, classes)) if hidden \
        else nn.Linear(X.shape[1], classes)
    train.fit(model, nn.CrossEntropyLoss(), optim.Adam(model.parameters(), lr=lr),
              loader(X, y, batch_size), epochs=epochs, metrics=(), verbose=0)
    return model


def error_rate(model: nn.Module, X: Any, y: Any) -> float:
    return 1.0 - metrics.accuracy(y, train.predict(model, X))


# %%
L = Lesson("09_bias_variance_and_splits", "Bias, variance and how to split the data")
R = 100 if L.quick else 200          # redrawn training sets for the Monte Carlo estimates
sets = data.make_hours_scores(20, noise=NOISE, seed=L.seed)
few = data.make_hours_scores(12, noise=NOISE, seed=L.seed)       # the slide's handful of students
tests = data.make_hours_scores(12, noise=NOISE, seed=L.seed + 1)
h_grid = np.linspace(0.0, 10.0, 400)


# %% [markdown]
# ## 1. The straight line and the squiggle (DATA-2)
#
# Twelve students; a line (degree 1) and a degree-9 polynomial through the same points, scored by
# the sum of squared errors (SSE) on the training students and on twelve new ones.

# %%
L.section("1. The line and the squiggle")
w_line, w_squiggle = fit_poly(few.hours, few.scores, 1), fit_poly(few.hours, few.scores, 9)
sse_rows: list[list[Any]] = [[name, sse(w, few.hours, few.scores), sse(w, tests.hours, tests.scores)]
                             for name, w in [("straight line (degree 1)", w_line), ("squiggle (degree 9)", w_squiggle)]]
L.table("line_vs_squiggle", ["model", "train SSE", "test SSE"], sse_rows,
        caption="12 training and 12 test students, score noise std 5 (SSE of the noise alone: about 12 x 25 = 300)")
fig, axes = plt.subplots(1, 2, figsize=(14, 5.2), sharey=True)
for ax, (name, w), row in zip(axes, [("straight line", w_line), ("squiggle (degree 9)", w_squiggle)], sse_rows):
    ax.plot(h_grid, sets.curve(h_grid), "k--", lw=1.2, label="true curve")
    ax.plot(h_grid, np.clip(predict_poly(w, h_grid), -20, 130), lw=2.2, color="C3", label=name)
    ax.plot(few.hours, few.scores, "o", color="C0", ms=7, label="training students")
    ax.plot(tests.hours, tests.scores, "s", color="C1", ms=6, mfc="none", mew=1.6, label="test students")
    ax.set_title(f"{name}: train SSE {row[1]:.0f}, test SSE {row[2]:.0f}")
    ax.set_xlabel("hours studied")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=9, loc="lower right")
axes[0].set_ylabel("exam score")
axes[0].set_ylim(-20, 130)
fig.suptitle("High bias against high variance on hours-vs-score data")
L.figure(fig, "line_vs_squiggle", caption="the line misses the curve everywhere (bias); the squiggle chases the "
                                          "noise of its 12 points (variance)")
L.claim("DATA-2", sse_rows[0][1] > sse_rows[1][1] and sse_rows[0][2] < sse_rows[1][2],
        "the line has the higher training SSE but the lower test SSE", line_train=sse_rows[0][1],
        squiggle_train=sse_rows[1][1], line_test=sse_rows[0][2], squiggle_test=sse_rows[1][2])


# %% [markdown]
# ## 2. Training error against the degree (DATA-5)
#
# The polynomials of degree d contain those of degree d - 1, so the least-squares training error can
# only fall as d grows: choosing d by training error always picks the largest. A validation set of 20
# other students picks a moderate one.

# %%
L.section("2. Training error never rises with the degree")
degrees = list(range(0, 13))
vals = data.make_hours_scores(20, noise=NOISE, seed=L.seed + 2)
train_mse, val_mse = [], []
for d in degrees:
    w = fit_poly(sets.hours, sets.scores, d)
    train_mse.append(mse(w, sets.hours, sets.scores))
    val_mse.append(mse(w, vals.hours, vals.scores))
best_train, best_val = degrees[int(np.argmin(train_mse))], degrees[int(np.argmin(val_mse))]
fig, ax = plt.subplots(figsize=(9, 5))
ax.semilogy(degrees, train_mse, "o-", lw=2, label="training MSE")
ax.semilogy(degrees, val_mse, "s-", lw=2, label="validation MSE")
ax.axhline(NOISE ** 2, color="k", ls=":", label="noise variance 25")
ax.axvline(best_val, color="C1", ls="--", lw=1, label=f"chosen on validation: degree {best_val}")
ax.set(title="Training and validation error against the polynomial degree (20 students each)",
       xlabel="polynomial degree (capacity)", ylabel="mean squared error (log scale)")
ax.grid(alpha=0.3)
ax.legend()
L.figure(fig, "degree", caption="the training error falls with every degree; the validation error is U-shaped")
L.table("degree", ["degree", "train MSE", "val MSE"], [[d, a, b] for d, a, b in zip(degrees, train_mse, val_mse)],
        caption="least-squares fits to the same 20 training students")
L.claim("DATA-5", all(b <= a * (1 + 1e-9) for a, b in zip(train_mse, train_mse[1:])) and best_train == degrees[-1]
        and best_val < degrees[-1],
        "the training MSE never rises with the degree, so it picks the largest degree; validation picks a smaller one",
        picked_by_train=best_train, picked_by_val=best_val)


# %% [markdown]
# ## 3. Bias^2 + variance + noise, by redrawing the training set (DATA-1, DATA-2)
#
# For each degree, R training sets of 20 students each give R fits M(h; D). On a grid of h:
# bias(h) = mean_D M(h; D) - f(h) and variance(h) = var_D M(h; D), averaged over the hours; the noise is
# sigma^2 = 25. Their sum should equal the mean squared error against fresh noisy scores, measured
# directly.

# %%
L.section("3. The bias-variance decomposition")
h_eval = np.linspace(0.25, 9.75, 100)
f_eval = sets.curve(h_eval)
bv_degrees = list(range(0, 9))
noise_rng = np.random.default_rng(L.seed + 99)
P_eval = md.tensor(design(h_eval, bv_degrees[-1]))
all_preds = np.empty((len(bv_degrees), R, len(h_eval)))
for r in range(R):
    D = data.make_hours_scores(20, noise=NOISE, seed=1000 + r)
    gram, rhs = normal_equations(D.hours, D.scores, bv_degrees[-1])
    W = np.zeros((bv_degrees[-1] + 1, len(bv_degrees)))
    for j, d in enumerate(bv_degrees):
        W[:d + 1, j] = solve(gram, rhs, d)
    all_preds[:, r] = (P_eval @ md.tensor(W)).data.T
bv_rows = []
for d in bv_degrees:
    preds = all_preds[d]
    bias2 = float(np.mean((preds.mean(axis=0) - f_eval) ** 2))
    var = float(np.mean(preds.var(axis=0)))
    fresh = f_eval + NOISE * noise_rng.standard_normal(preds.shape)  # a new noisy score for every fit and hour
    direct = float(np.mean((fresh - preds) ** 2))
    bv_rows.append([d, bias2, var, NOISE ** 2, bias2 + var + NOISE ** 2, direct])
L.table("bias_variance", ["degree", "bias^2", "variance", "noise", "sum", "measured MSE"], bv_rows,
        caption=f"{R} training sets of 20 students per degree, evaluated at 100 hours in [0.25, 9.75]")
fig, ax = plt.subplots(figsize=(9, 5.5))
arr = np.array(bv_rows, dtype=float)
ax.semilogy(arr[:, 0], arr[:, 1], "o-", lw=2, label="bias²")
ax.semilogy(arr[:, 0], arr[:, 2], "s-", lw=2, label="variance")
ax.semilogy(arr[:, 0], arr[:, 3], ":", color="k", label="noise σ² = 25")
ax.semilogy(arr[:, 0], arr[:, 4], "-", lw=3, color="C3", alpha=0.6, label="bias² + variance + noise")
ax.semilogy(arr[:, 0], arr[:, 5], "kx", ms=10, mew=2, label="measured test MSE")
ax.set(title="Bias falls and variance rises with the degree (20 students per training set)",
       xlabel="polynomial degree", ylabel="squared error (log scale)")
ax.grid(alpha=0.3)
ax.legend()
L.figure(fig, "bias_variance", caption="the three terms and their sum, with the directly measured MSE on top")
L.note("At high degrees a few training sets leave an end of the hour range empty, and their fits swing wildly "
       "there: such rare huge errors make up most of the variance, and the Monte Carlo estimates of bias^2 and "
       "variance at those degrees carry sampling error of their own. The identity itself holds for every degree.")
worst = max(abs(r[4] - r[5]) / r[5] for r in bv_rows)
L.claim("DATA-1", worst < 0.05, "bias^2 + variance + noise equals the measured expected squared error (within 5%)",
        worst_relative_difference=worst)
L.claim("DATA-2", arr[0, 1] > 10 * arr[-1, 1] and arr[-1, 2] > 5 * arr[1, 2],
        "simple models: high bias, low variance; complex ones the reverse",
        bias2_deg0=arr[0, 1], bias2_deg8=arr[-1, 1], var_deg1=arr[1, 2], var_deg8=arr[-1, 2])


# %% [markdown]
# ## 4. The regimes for a target error (DATA-3)
#
# The Training Tips deck reads a model against a target error eps: training error above eps is high
# bias; training error below eps with the test error above it is high variance. Here eps = 35 (mean
# squared error; the noise alone gives 25): the mean training error and the median test error (a
# few wild fits would swamp a mean) over the R training sets, on a fresh test set of 500 students.

# %%
L.section("4. Regimes for a target error")
eps = 35.0
big_test = data.make_hours_scores(500, noise=NOISE, seed=L.seed + 3)
cases = [("line", 1, 20), ("cubic", 3, 20), ("degree 10", 10, 20), ("degree 10, 10x the data", 10, 200)]
regime_rows: list[list[Any]] = []
for name, d, n in cases:
    tr_err, te_err = [], []
    for r in range(R):
        D = data.make_hours_scores(n, noise=NOISE, seed=5000 + r)
        w = fit_poly(D.hours, D.scores, d)
        tr_err.append(mse(w, D.hours, D.scores))
        te_err.append(mse(w, big_test.hours, big_test.scores))
    tr, te = float(np.mean(tr_err)), float(np.median(te_err))
    regime_rows.append([name, n, tr, te, regime(tr, te, eps)])
L.table("regimes", ["model", "students", "train MSE", "test MSE (median)", f"regime for eps = {eps:g}"],
        regime_rows, caption=f"mean training MSE and median test MSE over {R} training sets")
L.claim("DATA-3", regime_rows[0][4].startswith("high bias") and regime_rows[2][4].startswith("high variance")
        and regime_rows[1][4] == "on target" and regime_rows[3][4] == "on target",
        "the line is high bias, degree 10 on 20 students high variance; the cubic, and degree 10 with more data, "
        "reach the target", line=regime_rows[0][4][:9], degree10=regime_rows[2][4][:13])


# %% [markdown]
# ## 5. The gap shrinks as the training set grows (DATA-4)
#
# A cubic (fixed capacity, about the right one here) fitted to n students, n from 10 to 320: the
# training error rises towards the noise floor, the test error falls towards it, and the gap between
# them shrinks. (Medians over the training sets: at small n a few sets leave a wide stretch of hours
# empty, and the cubic's test error there is huge, which would swamp a mean.) A large gap at small n
# is the "unrepresentative training set" of the learning-curve
# slides (lesson 10 shows it on a network).

# %%
L.section("5. Gap against the training-set size")
sizes = [10, 14, 20, 40, 80, 160, 320]
gap_rows = []
for n in sizes:
    tr_err, te_err = [], []
    for r in range(R):
        D = data.make_hours_scores(n, noise=NOISE, seed=20000 + 1000 * n + r)
        w = fit_poly(D.hours, D.scores, 3)
        tr_err.append(mse(w, D.hours, D.scores))
        te_err.append(mse(w, big_test.hours, big_test.scores))
    gap_rows.append([n, float(np.median(tr_err)), float(np.median(te_err)),
                     float(np.median(te_err) - np.median(tr_err))])
g = np.array(gap_rows)
fig, ax = plt.subplots(figsize=(9, 5.5))
ax.semilogx(g[:, 0], g[:, 1], "o-", lw=2, label="training MSE")
ax.semilogx(g[:, 0], g[:, 2], "s-", lw=2, label="test MSE (generalisation)")
ax.fill_between(g[:, 0], g[:, 1], g[:, 2], color="C1", alpha=0.15, label="gap")
ax.axhline(NOISE ** 2, color="k", ls=":", label="noise variance 25")
ax.set(title=f"A cubic fitted to n students: median over {R} training sets", xlabel="training students n (log scale)",
       ylabel="mean squared error", ylim=(0, float(g[:, 2].max()) * 1.1))
ax.grid(alpha=0.3)
ax.legend()
L.figure(fig, "gap_vs_n", caption="training error rises, test error falls, the gap shrinks as n grows")
L.table("gap_vs_n", ["n", "train MSE", "test MSE", "gap"], gap_rows,
        caption="cubic fits, median over the training sets")
L.claim("DATA-4", all(b < a for a, b in zip(g[:, 3], g[1:, 3])) and g[-1, 3] < 0.1 * g[0, 3],
        "at fixed capacity the train/test gap shrinks with every increase of n", gap_n10=g[0, 3], gap_n320=g[-1, 3])


# %% [markdown]
# ## 6. A validation set that chose the model is optimistic (DATA-6)
#
# Each trial: 20 training students, 10 validation students, 60 configurations (degree 1 to 10, six
# ridge penalties). The configuration with the lowest validation error is picked, and its error is
# then measured on 500 untouched test students. The validation error of the winner is biased low
# (it won partly by luck), yet it is a far better guide than the training error. (Medians over the
# trials, as the note below explains.)

# %%
L.section("6. The optimism of a validation set used for selection")
configs = [(d, lam) for d in range(1, 11) for lam in (0.0, 1e-3, 1e-2, 1e-1, 1.0, 10.0)]
picked = []
trials = R
for r in range(trials):
    D = data.make_hours_scores(20, noise=NOISE, seed=40000 + r)
    V = data.make_hours_scores(10, noise=NOISE, seed=60000 + r)
    gram, rhs = normal_equations(D.hours, D.scores, 10)
    W = np.zeros((11, len(configs)))
    for j, (d, lam) in enumerate(configs):
        W[:d + 1, j] = solve(gram, rhs, d, lam)
    v = column_mse(W, V.hours, V.scores)
    best = W[:, [int(np.argmin(v))]]
    picked.append([column_mse(best, D.hours, D.scores)[0], float(v.min()),
                   column_mse(best, big_test.hours, big_test.scores)[0]])
pk = np.array(picked)
tr_m, va_m, te_m = (float(v) for v in np.median(pk, axis=0))
L.table("selection", ["error of the chosen configuration", "median over trials", "mean over trials"],
        [["training MSE", tr_m, pk[:, 0].mean()], ["validation MSE (used to choose)", va_m, pk[:, 1].mean()],
         ["test MSE (untouched)", te_m, pk[:, 2].mean()]],
        caption=f"{trials} trials, best of {len(configs)} configurations on 10 validation students")
L.note(f"In {int(np.sum(pk[:, 2] > 4 * NOISE ** 2))} of the {trials} trials the winner's test MSE exceeded 100: ten "
       "validation students can leave an end of the hours uncovered, and a wild high-degree fit then wins. Such "
       "trials swamp the mean, so the claim is read on the medians.")
L.claim("DATA-6", va_m < te_m and abs(te_m - va_m) < abs(te_m - tr_m) and tr_m < va_m,
        "the chosen model's validation error underestimates its test error, yet predicts it better than its "
        "training error does",
        train=tr_m, validation=va_m, test=te_m)


# %% [markdown]
# ## 7. The crash course's split table, as arithmetic (DATA-7)
#
# 10,000 MRI images and 1,000 CT images. Dev and test must look like deployment. For the MRI goal, the
# four options of the slide; for the CT goal, its three. Counted: whether each option's dev and test
# are all from the target modality, and how many images it trains on.

# %%
L.section("7. Splits for a different deployment distribution")
available = {"MRI": 10_000, "CT": 1_000}
mri_goal = {"option 1": ({"MRI": 8000}, {"MRI": 1000}, {"MRI": 1000}),
            "option 2": ({"MRI": 8000, "CT": 1000}, {"MRI": 1000}, {"MRI": 1000}),
            "option 3": ({"MRI": 8000}, {"MRI": 1000, "CT": 1000}, {"MRI": 1000}),
            "option 4": ({"MRI": 8000}, {"MRI": 1000}, {"MRI": 1000, "CT": 1000})}
ct_goal = {"option 1": ({"CT": 500}, {"CT": 250}, {"CT": 250}),
           "option 2": ({"MRI": 10_000}, {"CT": 500}, {"CT": 500}),
           "option 3": ({"MRI": 10_000, "CT": 500}, {"CT": 250}, {"CT": 250})}


def split_rows(goal: str, options: dict) -> list[list[Any]]:
    rows = []
    for name, (tr, dv, te) in options.items():
        used = {k: tr.get(k, 0) + dv.get(k, 0) + te.get(k, 0) for k in available}
        fits = all(used[k] <= available[k] for k in available)
        target_only = set(dv) == {goal} and set(te) == {goal}
        rows.append([goal, name, f"{sum(tr.values()):,}", f"{dv}", f"{te}", fits, target_only])
    return rows


split_table = split_rows("MRI", mri_goal) + split_rows("CT", ct_goal)
L.table("splits", ["goal", "option", "train images", "dev", "test", "within the data", "dev and test all target"],
        split_table, caption="the slide's options; the data: 10K MRI, 1K CT")
mri_ok = [r[1] for r in split_table if r[0] == "MRI" and r[6]]
ct_ok = [r for r in split_table if r[0] == "CT" and r[6] and r[5]]
ct_best = max(ct_ok, key=lambda r: int(r[2].replace(",", "")))
L.claim("DATA-7", mri_ok == ["option 1", "option 2"] and all(r[5] for r in split_table),
        "for the MRI goal only options 1 and 2 keep dev and test all MRI (1K each)", valid=", ".join(mri_ok))
L.claim("DATA-7", ct_best[1] == "option 3" and ct_best[2] == "10,500" and len(ct_ok) == 3,
        "for the CT goal, 10K MRI + 500 CT with 250 CT each for dev and test trains on the most data",
        best=ct_best[1], train_images=ct_best[2])


# %% [markdown]
# ## 8. A train-dev set separates variance from data mismatch (DATA-8)
#
# Two moons as the training distribution (as the MRI images were); the deployment distribution is the
# same moons rotated by an angle (the CT images). The training set mixes 600 source points and 50
# target points; train-dev (1300 points) is held out from that same mix, dev (1000 points) comes from
# the target alone. A small
# MLP is trained for each rotation. The train to train-dev gap (variance) should stay put while the
# train-dev to dev gap (data mismatch) grows with the rotation.

# %%
L.section("8. Train-dev: variance against data mismatch")


def rotate(X: Any, degrees_: float) -> np.ndarray:
    a = math.radians(degrees_)
    c = np.array([0.5, 0.25])
    rot = np.array([[math.cos(a), -math.sin(a)], [math.sin(a), math.cos(a)]])
    return ((np.asarray(X) - c) @ rot.T + c).astype(np.float32)


angles = [0, 45, 90] if L.quick else [0, 30, 60, 90]
shift_rows = []
for k, ang in enumerate(angles):
    md.manual_seed(L.seed)
    Xs, ys = data.make_moons(1800, noise=0.25, seed=L.seed + 10 + k)
    Xt, yt = data.make_moons(1150, noise=0.25, seed=L.seed + 50 + k)
    Xt = rotate(Xt, ang)
    tr_X, tr_y = np.concatenate([Xs[:600], Xt[:50]]), np.concatenate([ys[:600], yt[:50]])          # 600 + 50
    td_X, td_y = np.concatenate([Xs[600:], Xt[50:150]]), np.concatenate([ys[600:], yt[50:150]])    # same mix
    dv_X, dv_y = Xt[150:], yt[150:]                                                                # target only
    model = train_classifier(tr_X, tr_y, hidden=32, classes=2, epochs=30, lr=0.01, batch_size=50)
    e_tr, e_td, e_dv = (100 * error_rate(model, a, b) for a, b in ((tr_X, tr_y), (td_X, td_y), (dv_X, dv_y)))
    shift_rows.append([ang, e_tr, e_td, e_dv, e_td - e_tr, e_dv - e_td])
L.table("train_dev", ["rotation (degrees)", "train error %", "train-dev error %", "dev error %",
                      "variance (train-dev - train)", "mismatch (dev - train-dev)"], shift_rows,
        caption="MLP 2-32-2, Adam, 30 epochs; train-dev from the training mix, dev from the rotated moons")
sr = np.array(shift_rows)
fig, ax = plt.subplots(figsize=(9, 5))
ax.plot(sr[:, 0], sr[:, 4], "o-", lw=2, label="variance: train-dev − train")
ax.plot(sr[:, 0], sr[:, 5], "s-", lw=2, label="data mismatch: dev − train-dev")
ax.set(title="Two gaps under a growing domain shift", xlabel="rotation of the deployment data (degrees)",
       ylabel="error gap (percentage points)")
ax.grid(alpha=0.3)
ax.legend()
L.figure(fig, "train_dev", caption="only the mismatch gap grows with the shift")
L.claim("DATA-8", all(b > a for a, b in zip(sr[:, 5], sr[1:, 5])) and sr[-1, 5] > 10
        and np.ptp(sr[:, 4]) < 0.25 * (sr[-1, 5] - sr[0, 5]),
        "the mismatch gap grows with the shift while the variance gap stays small",
        mismatch_first=sr[0, 5], mismatch_last=sr[-1, 5], variance_range=float(np.ptp(sr[:, 4])))


# %% [markdown]
# ## 9. Error analysis: sort the dev errors into buckets (DATA-9)
#
# A digits classifier trained on clean digits meets a dev set with three kinds of trouble, injected
# at the crash course's rates: 5% too dark (intensity x 0.25), 11% a new view (rotated by 90 degrees),
# 14% flipped left-right with lower contrast. Error analysis counts which kind the misclassified dev
# digits are, and attacks the largest bucket first, with its remedy: pre-processing for the dark
# images (each image divided by its own maximum, in training and dev alike), more data for the new
# view (training digits seen in that view), augmentation for the flips (flipped, low-contrast copies
# of the training digits). Then it counts again.

# %%
L.section("9. Error analysis")
Xd, yd = data.load_digits()
Xd = (Xd / 16.0).astype(np.float32)
perm = L.rng.permutation(len(yd))
Xd, yd = Xd[perm], yd[perm]
X_tr, y_tr, y_dev = Xd[:1200], yd[:1200], yd[1200:]
n_dev = len(y_dev)
kind = np.array(["clean"] * n_dev, dtype=object)
cut = np.cumsum([round(0.05 * n_dev), round(0.11 * n_dev), round(0.14 * n_dev)])
kind[:cut[0]], kind[cut[0]:cut[1]], kind[cut[1]:cut[2]] = "too dark", "new view", "flipped, low contrast"


def images(a: np.ndarray) -> np.ndarray:
    return a.reshape(len(a), 8, 8)


def flip_low_contrast(a: np.ndarray) -> np.ndarray:
    return (0.5 * images(a)[:, :, ::-1] + 0.25).reshape(len(a), 64).astype(np.float32)


def new_view(a: np.ndarray) -> np.ndarray:
    return np.rot90(images(a), axes=(1, 2)).reshape(len(a), 64).astype(np.float32)


def per_image_max(a: np.ndarray) -> np.ndarray:
    return (a / np.maximum(a.max(axis=1, keepdims=True), 1e-6)).astype(np.float32)


X_dev = Xd[1200:].copy()
X_dev[:cut[0]] *= 0.25
X_dev[cut[0]:cut[1]] = new_view(X_dev[cut[0]:cut[1]])
X_dev[cut[1]:cut[2]] = flip_low_contrast(X_dev[cut[1]:cut[2]])
remedies = {"too dark": "pre-processing", "new view": "more data", "flipped, low contrast": "augmentation"}


def remedy_data(bucket: str | None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Training inputs, labels and dev inputs after the remedy of ``bucket`` (None: no remedy)."""
    if bucket == "too dark":
        return per_image_max(X_tr), y_tr, per_image_max(X_dev)
    if bucket == "new view":
        return np.concatenate([X_tr, new_view(X_tr)]), np.concatenate([y_tr, y_tr]), X_dev
    if bucket == "flipped, low contrast":
        return np.concatenate([X_tr, flip_low_contrast(X_tr)]), np.concatenate([y_tr, y_tr]), X_dev
    return X_tr, y_tr, X_dev


def bucket_errors(bucket: str | None) -> dict[str, float]:
    """Train with ``bucket``'s remedy; dev errors per bucket, in % of the whole dev set."""
    Xa, ya, Xv = remedy_data(bucket)
    md.manual_seed(L.seed)
    model = train_classifier(Xa, ya, hidden=64, classes=10, epochs=20, lr=3e-3)
    wrong = np.asarray(train.predict(model, Xv).data).argmax(axis=1) != y_dev
    return {k: 100 * float(np.sum(wrong & (kind == k))) / n_dev for k in ["clean", *remedies]}


before = bucket_errors(None)
largest = max(remedies, key=lambda k: before[k])
after = bucket_errors(largest)
L.table("error_analysis", ["bucket", "share of dev set %", "dev errors % (of all dev)", "remedy",
                           f"after {remedies[largest]} %"],
        [[k, 100 * float(np.mean(kind == k)), before[k], remedies.get(k, "-"), after[k]] for k in ["clean", *remedies]],
        caption="misclassified dev digits sorted by what is wrong with them")
L.note(f"The largest bucket of errors is '{largest}' ({before[largest]:.1f}% of the dev set), although the flipped "
       "images are the most numerous: a left-right flip leaves symmetric digits such as 0, 1 and 8 readable, while "
       "almost no digit survives a quarter turn. That is why error analysis counts the errors, not the troubles.")
L.claim("DATA-9", after[largest] < 0.5 * before[largest] and sum(after.values()) < sum(before.values()),
        "attacking the largest bucket of dev errors with its remedy more than halves it and lowers the dev error",
        largest=largest, before=before[largest], after=after[largest],
        dev_error_before=sum(before.values()), dev_error_after=sum(after.values()))


# %% [markdown]
# ## 10. Avoidable bias and variance, from the crash course's table (DATA-10)
#
# With human level at about 100%, avoidable bias = 100 - training accuracy and variance = training
# accuracy - dev accuracy, in points. The larger of the two says what to work on next.

# %%
L.section("10. Avoidable bias and variance")
steps = [("first model", 67, 65), ("after pre-processing, augmentation, new data", 87, 77),
         ("after a deeper model + L2", 95, 94)]
bv_table = [[name, tr, dv, 100 - tr, tr - dv, "bias" if 100 - tr > tr - dv else "variance"] for name, tr, dv in steps]
L.table("avoidable_bias", ["step", "train acc %", "dev acc %", "avoidable bias", "variance", "larger"], bv_table,
        caption="human level about 100%")
L.claim("DATA-10", [r[3] for r in bv_table] == [33, 13, 5] and [r[4] for r in bv_table] == [2, 10, 1],
        "avoidable bias 33, 13, 5 and variance 2, 10, 1 points",
        bias=str([r[3] for r in bv_table]), variance=str([r[4] for r in bv_table]))


# %% [markdown]
# ## 11. How precise is an accuracy? Hold-out against k-fold (DATA-11)
#
# An accuracy p measured on n samples has standard error sqrt(p(1 - p)/n): sqrt(0.09/n) at 90%, 0.3
# points at n = 10,000, so 90% against 90.2% is no evidence of a difference. With little data a single
# hold-out split is noisy; k-fold cross-validation uses every sample once for validation. On 300
# digits, a softmax regression (minidl, full-batch Adam) scored many times over reshuffled data: by one
# 20% hold-out split, and by 5-fold cross-validation (`minidl.data.KFold`).

# %%
L.section("11. Standard error, hold-out and k-fold")
se_rows: list[list[Any]] = [[f"{n:,}", 100 * math.sqrt(0.9 * 0.1 / n)] for n in (100, 1_000, 10_000)]
L.table("standard_error", ["n", "standard error of 90% (points)"], se_rows)
z = 0.2 / (math.sqrt(2) * se_rows[-1][1])
L.note(f"90% against 90.2% on two sets of 10,000: the difference is {z:.2f} standard errors of a difference, "
       "well inside the noise.")
L.claim("DATA-11", abs(se_rows[-1][1] - 0.3) < 1e-9 and z < 1, "the standard error of 90% at n = 10,000 is 0.3 points",
        se=se_rows[-1][1], z=z)


def softmax_accuracy(Xa: Any, ya: Any, Xb: Any, yb: Any) -> float:
    model = nn.Linear(64, 10)
    train.fit(model, nn.CrossEntropyLoss(), optim.Adam(model.parameters(), lr=0.05),
              [(md.tensor(Xa), md.tensor(ya))], epochs=40, metrics=(), verbose=0)
    return metrics.accuracy(yb, train.predict(model, Xb))


repeats = 8 if L.quick else 12
small_X, small_y = Xd[:300], yd[:300]
holdout, kfold = [], []
for r in range(repeats):
    md.manual_seed(L.seed + r)
    order = np.random.default_rng(L.seed + r).permutation(300)
    Xr_, yr_ = small_X[order], small_y[order]
    holdout.append(softmax_accuracy(Xr_[:240], yr_[:240], Xr_[240:], yr_[240:]))
    folds = [softmax_accuracy(Xr_[a], yr_[a], Xr_[b], yr_[b]) for a, b in data.KFold(5).split(Xr_)]
    kfold.append(float(np.mean(folds)))
p_hat = float(np.mean(holdout))
L.table("holdout_vs_kfold", ["estimate", "mean accuracy", "std over reshuffles", "binomial SE sqrt(p(1-p)/n)"],
        [["hold-out (60 samples)", p_hat, float(np.std(holdout, ddof=1)), math.sqrt(p_hat * (1 - p_hat) / 60)],
         ["5-fold (all 300)", float(np.mean(kfold)), float(np.std(kfold, ddof=1)),
          math.sqrt(p_hat * (1 - p_hat) / 300)]],
        caption=f"{repeats} reshuffles of 300 digits; softmax regression, 40 full-batch Adam steps")
fig, ax = plt.subplots(figsize=(8, 4.5))
ax.plot(holdout, np.zeros(repeats) + 1, "o", ms=9, alpha=0.7, label="hold-out (one 20% split)")
ax.plot(kfold, np.zeros(repeats), "s", ms=9, alpha=0.7, label="5-fold cross-validation")
ax.set_yticks([0, 1], ["5-fold", "hold-out"])
ax.set_ylim(-0.6, 1.6)
ax.set(title=f"Accuracy estimates over {repeats} reshuffles of 300 digits", xlabel="estimated accuracy")
ax.grid(alpha=0.3, axis="x")
ax.legend(loc="upper left", fontsize=9)
L.figure(fig, "holdout_vs_kfold", caption="the k-fold estimates scatter far less than the hold-out ones")
L.claim("DATA-11", np.std(kfold, ddof=1) < 0.7 * np.std(holdout, ddof=1),
        "with little data, 5-fold cross-validation estimates scatter less than a single hold-out split",
        std_holdout=float(np.std(holdout, ddof=1)), std_kfold=float(np.std(kfold, ddof=1)))


# %%
L.finish()
