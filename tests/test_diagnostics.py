"""minidl.diagnostics: the debugging recipe, and the learning-curve regimes on built and real runs."""

import math

import numpy as np
import pytest

import minidl as md
import minidl.nn as nn
import minidl.optim as optim
from minidl import diagnostics as diag
from minidl import train

E = np.arange(30, dtype=np.float64)


def regime_curves(regime, rng):
    """(train, validation) loss curves over 30 epochs shaped like the decks' picture of ``regime``."""
    fall = np.exp(-E / 3)
    if regime == "good_fit":
        L = 0.2 + 2.1 * fall
        return L, L + 0.05 + rng.normal(0, 0.005, E.size)
    if regime == "underfit":  # flat, noisy, high
        L = 2.3 - 0.1 * (1 - np.exp(-E / 5)) + rng.normal(0, 0.03, E.size)
        return L, L + 0.02 + rng.normal(0, 0.03, E.size)
    if regime == "underfit_still_improving":
        L = 2.3 - 0.05 * E
        return L, L + 0.05
    if regime == "overfit":
        L = 0.1 + 2.2 * np.exp(-E / 4)
        return L, 0.5 + 1.8 * np.exp(-E / 4) + 0.04 * np.maximum(0, E - 10)
    if regime == "unrepresentative_train":
        return 0.2 + 2.1 * np.exp(-E / 4), 0.9 + 1.4 * np.exp(-E / 6)
    if regime == "unrepresentative_validation":
        L = 0.2 + 2.1 * fall
        return L, L + rng.normal(0, 0.25, E.size)
    if regime == "validation_below_train":
        L = 0.5 + 1.8 * fall
        return L, L - 0.25
    raise AssertionError(regime)


@pytest.mark.parametrize("regime", diag.REGIMES)
@pytest.mark.parametrize("seed", range(5))
def test_learning_curve_diagnosis_names_each_built_regime(regime, seed):
    rng = np.random.default_rng(seed)
    L, V = regime_curves(regime, rng)
    jitter = 0.01 if seed else 0.0  # seed 0: the clean curves; others with measurement noise on both
    L = L + rng.normal(0, jitter, L.size)
    V = V + rng.normal(0, jitter, V.size)
    res = diag.learning_curve_diagnosis({"loss": L.tolist(), "val_loss": V.tolist()})
    assert res.regime == regime, str(res)
    assert res.ok == (regime == "good_fit")
    assert res.advice.startswith(regime + ":")
    if regime == "overfit":
        assert 8 <= res.turning_epoch <= 13  # the built validation curve turns up near epoch 10


def test_learning_curve_diagnosis_without_validation_and_errors():
    L, _ = regime_curves("underfit_still_improving", np.random.default_rng(0))
    assert diag.learning_curve_diagnosis({"loss": L.tolist()}).regime == "underfit_still_improving"
    L, _ = regime_curves("good_fit", np.random.default_rng(0))
    h = train.History({"loss": L.tolist()})
    assert diag.learning_curve_diagnosis(h).regime == "good_fit"
    assert diag.learning_curve_diagnosis({"loss": [2.3, 1.0, math.nan, 1.0]}).regime == "diverged"
    with pytest.raises(ValueError, match="at least 4 epochs"):
        diag.learning_curve_diagnosis({"loss": [1.0, 0.5]})
    with pytest.raises(KeyError, match="no 'loss'"):
        diag.learning_curve_diagnosis({"val_loss": [1.0] * 5})


# ----------------------------------------------------------------------------- real runs on digits


@pytest.fixture(scope="module")
def digits():
    datasets = pytest.importorskip("sklearn.datasets")
    X, y = datasets.load_digits(return_X_y=True)
    X = (X / 16.0).astype(np.float32)
    rng = np.random.default_rng(0)
    idx = rng.permutation(len(X))
    return X[idx], y[idx].astype(np.int64)


def loader(X, y, size):
    return [(md.tensor(X[i:i + size]), md.tensor(y[i:i + size])) for i in range(0, len(X), size)]


def run_digits(digits, n_train, model, opt_fn, epochs, size=32):
    X, y = digits
    md.manual_seed(0)
    opt = opt_fn(model.parameters())
    return train.fit(model, nn.CrossEntropyLoss(), opt, loader(X[:n_train], y[:n_train], size), epochs,
                     val_loader=loader(X[1200:1500], y[1200:1500], 300), metrics=(), verbose=0)


def test_real_run_overfit_small_training_set(digits):
    md.manual_seed(0)
    model = nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 10))
    h = run_digits(digits, 40, model, lambda p: optim.Adam(p, lr=0.01), 60, size=40)
    res = diag.learning_curve_diagnosis(h)
    assert res.regime == "overfit", str(res)
    assert res.turning_epoch == h.best("val_loss")[0] or abs(res.turning_epoch - h.best("val_loss")[0]) <= 2


def test_real_run_underfit_with_a_tiny_learning_rate(digits):
    md.manual_seed(0)
    h = run_digits(digits, 600, nn.Sequential(nn.Linear(64, 10)), lambda p: optim.SGD(p, lr=1e-5), 8)
    assert diag.learning_curve_diagnosis(h).regime == "underfit"


def test_real_run_stopped_while_still_improving(digits):
    md.manual_seed(0)
    h = run_digits(digits, 600, nn.Sequential(nn.Linear(64, 10)), lambda p: optim.SGD(p, lr=0.05), 8)
    assert diag.learning_curve_diagnosis(h).regime == "underfit_still_improving"


def test_real_run_good_fit(digits):
    md.manual_seed(0)
    h = run_digits(digits, 1200, nn.Sequential(nn.Linear(64, 10)), lambda p: optim.Adam(p, lr=0.05), 30)
    res = diag.learning_curve_diagnosis(h)
    assert res.regime == "good_fit", str(res)


def test_real_run_validation_below_train_with_heavy_dropout(digits):
    md.manual_seed(0)
    model = nn.Sequential(nn.Dropout(0.6), nn.Linear(64, 64), nn.ReLU(), nn.Dropout(0.6), nn.Linear(64, 10))
    h = run_digits(digits, 1200, model, lambda p: optim.Adam(p, lr=0.005), 20)
    assert diag.learning_curve_diagnosis(h).regime == "validation_below_train"


# ----------------------------------------------------------------------------- the recipe's other checks


def blob_batch(n=32, d=6, c=4, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(0, 1, (n, d)).astype(np.float32)
    return md.tensor(x), md.tensor(x[:, :c].argmax(1).astype(np.int64))  # learnable labels


def test_initial_loss_check():
    md.manual_seed(0)
    x, y = blob_batch()
    model = nn.Sequential(nn.Linear(6, 16), nn.Tanh(), nn.Linear(16, 4))
    res = diag.initial_loss_check(model, nn.CrossEntropyLoss(), x, y)
    assert res.ok and res.expected == pytest.approx(math.log(4))
    with md.no_grad():
        model[2].weight.data *= 50
    bad = diag.initial_loss_check(model, nn.CrossEntropyLoss(), x, y)
    assert not bad.ok and bad.loss > 2 * math.log(4) and "too large" in bad.advice
    b = diag.initial_loss_check(nn.Linear(6, 1), nn.BCEWithLogitsLoss(), x, md.tensor(np.zeros((32, 1), np.float32)))
    assert b.expected == pytest.approx(math.log(2))


def test_overfit_one_batch_passes_restores_and_fails_on_a_broken_input():
    md.manual_seed(0)
    x, y = blob_batch()
    model = nn.Sequential(nn.Linear(6, 64), nn.ReLU(), nn.Linear(64, 4))
    before = model.state_dict()
    res = diag.overfit_one_batch(model, nn.CrossEntropyLoss(), optim.Adam(model.parameters(), lr=0.01), x, y)
    assert res.ok and res.accuracy == 1.0 and res.steps_to_target < 200
    for k, v in model.state_dict().items():
        np.testing.assert_array_equal(v, before[k])
    zeros = md.zeros(32, 6)  # a pipeline bug: every input blank, so no model can memorise the labels
    bad = diag.overfit_one_batch(model, nn.CrossEntropyLoss(), optim.Adam(model.parameters(), lr=0.01), zeros, y,
                                 steps=50)
    assert not bad.ok and "points to a bug" in bad.advice and len(bad.losses) == 50


def test_activation_stats_saturation_and_dead_relus():
    md.manual_seed(0)
    x, _ = blob_batch(64)
    tanh_net = nn.Sequential(nn.Linear(6, 32), nn.Tanh())
    with md.no_grad():
        tanh_net[0].weight.data *= 40
    res = diag.activation_stats(tanh_net, x)
    layer = res.layers[1]
    assert layer["kind"] == "Tanh" and layer["saturated"] > 0.5 and not res.ok
    a = res.activations["1 (Tanh)"]
    assert layer["saturated"] == pytest.approx(float(np.mean(np.abs(a) > 0.99)))
    relu_net = nn.Sequential(nn.Linear(6, 10), nn.ReLU())
    with md.no_grad():
        relu_net[0].bias.data[:6] = -100.0  # six units can never fire
    r = diag.activation_stats(relu_net, x)
    assert r.layers[1]["dead"] == pytest.approx(0.6) and "dead ReLUs" in r.advice


def test_gradient_stats_and_update_ratio():
    md.manual_seed(0)
    x, y = blob_batch()
    model = nn.Sequential(nn.Linear(6, 8), nn.ReLU(), nn.Linear(8, 4))
    nn.CrossEntropyLoss()(model(x), y).backward()
    g = diag.gradient_stats(model)
    assert g.ok and [r["name"] for r in g.layers] == ["0.weight", "0.bias", "2.weight", "2.bias"]
    w = model[0].weight
    assert g.layers[0]["grad_norm"] == pytest.approx(float(np.linalg.norm(w.grad)), rel=1e-5)
    before = model.state_dict()
    optim.SGD(model.parameters(), lr=0.01).step()
    r = diag.update_ratio(model, before)
    expect = 0.01 * np.linalg.norm(before["0.weight"] * 0 + w.grad) / np.linalg.norm(before["0.weight"])
    assert r.ratios["0.weight"] == pytest.approx(float(expect), rel=1e-4)
    model.zero_grad()
    assert not diag.gradient_stats(model).ok


def test_update_ratio_logger_in_fit():
    x, y = blob_batch(40)
    model = nn.Sequential(nn.Linear(6, 4))
    cb = diag.UpdateRatioLogger()
    train.fit(model, nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=0.01),
              [(x[:20], y[:20]), (x[20:], y[20:])], 3, callbacks=[cb], verbose=0)
    assert set(cb.history) == {"0.weight", "0.bias"}
    assert len(cb.history["0.weight"]) == 3 and len(cb.steps["0.weight"]) == 6
    assert all(0 < v < 1 for v in cb.steps["0.weight"])


def test_lr_range_test_restores_the_model_and_finds_a_fall():
    md.manual_seed(0)
    x, y = blob_batch(64, seed=1)
    model = nn.Sequential(nn.Linear(6, 32), nn.ReLU(), nn.Linear(32, 4))
    opt = optim.SGD(model.parameters(), lr=0.123)
    before = model.state_dict()
    res = diag.lr_range_test(model, nn.CrossEntropyLoss(), opt, [(x[:32], y[:32]), (x[32:], y[32:])],
                             lr_min=1e-4, lr_max=100.0, steps=60)
    assert res.ok and 1e-4 < res.suggested_lr < 100.0
    lrs = np.asarray(res.lrs)
    np.testing.assert_allclose(lrs[1:] / lrs[:-1], (1e6) ** (1 / 59), rtol=1e-9)
    assert len(res.losses) < 60  # it stopped once the loss blew up
    for k, v in model.state_dict().items():
        np.testing.assert_array_equal(v, before[k])
    assert opt.param_groups[0]["lr"] == 0.123


def test_check_pipeline_finds_blank_samples_bad_labels_and_single_class_batches():
    x, y = blob_batch(30, c=3)
    assert diag.check_pipeline([(x[:15], y[:15]), (x[15:], y[15:])], num_classes=3).ok
    xd = x.data.copy()
    xd[3] = 0.0
    xd[5] = 7.0
    yd = y.data.copy()
    yd[7] = 3
    bad = [(md.tensor(xd[:15]), md.tensor(yd[:15])), (md.tensor(xd[15:20]), md.tensor(np.full(5, 1)))]
    r = diag.check_pipeline(bad, num_classes=3)
    assert not r.ok and (r.blank, r.constant, r.labels_out_of_range, r.single_class_batches) == (1, 1, 1, 1)
    assert "blank" in r.advice and r.norm_min == 0.0


def test_result_str_and_missing_value():
    r = diag.Result("x", True, "fine", {"a": 1.5})
    assert "OK" in str(r) and r.a == 1.5
    with pytest.raises(AttributeError, match="no value 'b'"):
        _ = r.b


def test_learning_curve_diagnosis_ignores_an_interrupted_last_epoch():
    L, V = regime_curves("overfit", np.random.default_rng(0))
    h = train.History()
    for a, b in zip(L, V):
        h.append({"loss": a, "val_loss": b})
    full = diag.learning_curve_diagnosis(h)
    h.append({"loss": float(L[-1]) * 0.99})  # Ctrl-C: the last record has no val_loss
    h.interrupted = True
    cut = diag.learning_curve_diagnosis(h)
    assert full.regime == cut.regime == "overfit" and cut.ignored_epochs == 1 and full.ignored_epochs == 0
    assert cut.epochs == 30 and "without a validation value" in cut.advice
    short = train.History()
    for e in range(8):
        short.append({"loss": 1 / (e + 1), "val_loss": 1 / (e + 1) + 0.05})
    short.append({"loss": 0.11})
    assert diag.learning_curve_diagnosis(short).regime != "diverged"
    short.append({"loss": math.nan, "val_loss": math.nan})  # a real nan is still divergence
    assert diag.learning_curve_diagnosis(short).regime == "diverged"
    with pytest.raises(ValueError, match="at least 4 epochs.*leaving out 1"):
        diag.learning_curve_diagnosis({"loss": [1.0, 0.9, 0.8, 0.7], "val_loss": [1.0, 0.9, 0.8, math.nan]})


def test_diagnostics_refuse_bad_arguments():
    md.manual_seed(0)
    x, y = blob_batch()
    model = nn.Sequential(nn.Linear(6, 4))
    opt = optim.SGD(model.parameters(), lr=0.1)
    before = model.state_dict()
    for steps in (0, -3, 2.5):
        with pytest.raises(ValueError, match="steps must be an int >= 1"):
            diag.overfit_one_batch(model, nn.CrossEntropyLoss(), opt, x, y, steps=steps)
    for c in (0, 1, 2.0):
        with pytest.raises(ValueError, match="num_classes must be an int >= 2"):
            diag.initial_loss_check(model, nn.CrossEntropyLoss(), x, y, num_classes=c)
    with pytest.raises(ValueError, match="1 output.*BCEWithLogitsLoss"):
        diag.initial_loss_check(nn.Linear(6, 1), nn.MSELoss(), x, md.zeros(32, 1))
    loader = [(x, y)]
    for smooth in (1.0, 2.0, -0.1):
        with pytest.raises(ValueError, match="0 <= smooth < 1"):
            diag.lr_range_test(model, nn.CrossEntropyLoss(), opt, loader, smooth=smooth)
    assert diag.lr_range_test(model, nn.CrossEntropyLoss(), opt, loader, steps=5, smooth=0.0).losses
    with pytest.raises(ValueError, match="loader yielded no batches"):
        diag.lr_range_test(model, nn.CrossEntropyLoss(), opt, [], steps=5)
    for k, v in model.state_dict().items():
        np.testing.assert_array_equal(v, before[k])
    with pytest.raises(TypeError, match=r"batch 0 is a ndarray, not an \(x, y\) pair"):
        diag.check_pipeline([x.data])
    with pytest.raises(TypeError, match="batch 1 is a tuple of length 3"):
        diag.check_pipeline([(x, y), (x, y, y)])
    for mb in (0, -1):
        with pytest.raises(ValueError, match="max_batches must be None or an int >= 1"):
            diag.check_pipeline(loader, max_batches=mb)
    assert diag.check_pipeline([(x, y), (x, y)], max_batches=1).batches == 1


def test_update_ratio_requires_the_parameters_names_and_shapes():
    md.manual_seed(0)
    model = nn.Sequential(nn.Linear(6, 8), nn.ReLU(), nn.Linear(8, 4))
    before = model.state_dict()
    assert diag.update_ratio(model, before).ratios["0.weight"] == 0.0  # no step yet
    broadcasting = {**before, "0.weight": np.float64(1.0)}  # a scalar broadcasts, but is no saved weight
    with pytest.raises(ValueError, match=r"before\['0.weight'\] has shape \(\), .* shape \(8, 6\)"):
        diag.update_ratio(model, broadcasting)
    with pytest.raises(ValueError, match=r"before\['2.bias'\] has shape \(1,\)"):
        diag.update_ratio(model, {**before, "2.bias": np.zeros(1)})
    missing = {k: v for k, v in before.items() if k != "2.bias"}
    with pytest.raises(ValueError, match=r"missing parameters \['2.bias'\]"):
        diag.update_ratio(model, missing)
    with pytest.raises(ValueError, match=r"unknown keys \['9.weight'\]"):
        diag.update_ratio(model, {**before, "9.weight": np.zeros(3)})
