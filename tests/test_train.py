"""minidl.train: fit/evaluate/predict, sample-weighted averages, History, callbacks, exact resume."""

import json
import math
import signal

import numpy as np
import pytest

import minidl as md
import minidl.nn as nn
import minidl.optim as optim
from minidl import train


def batches(x, y, size):
    """A list of (x, y) Tensor batches: the simplest re-iterable loader."""
    return [(x[i:i + size], y[i:i + size]) for i in range(0, x.shape[0], size)]


class ShuffledLoader:
    """Reshuffles every epoch with md.randperm (minidl's generator), like DataLoader(shuffle=True)."""

    def __init__(self, x, y, size):
        self.x, self.y, self.size = x, y, size

    def __len__(self):
        return math.ceil(self.x.shape[0] / self.size)

    def __iter__(self):
        perm = md.randperm(self.x.shape[0]).data
        for i in range(0, len(perm), self.size):
            idx = perm[i:i + self.size]
            yield md.tensor(self.x.data[idx]), md.tensor(self.y.data[idx])


def blobs(n=120, d=5, c=3, seed=0):
    rng = np.random.default_rng(seed)
    centers = rng.normal(0, 3, (c, d))
    y = rng.integers(0, c, n)
    x = centers[y] + rng.normal(0, 1, (n, d))
    return md.tensor(x.astype(np.float32)), md.tensor(y.astype(np.int64))


def mlp(d=5, c=3, dropout=0.0):
    layers = [nn.Linear(d, 16), nn.ReLU()]
    if dropout:
        layers.append(nn.Dropout(dropout))
    return nn.Sequential(*layers, nn.Linear(16, c))


def test_evaluate_weights_a_short_last_batch_by_its_size():
    md.manual_seed(0)
    x, y = blobs(7)
    model = mlp()
    loss_fn = nn.CrossEntropyLoss()
    res = train.evaluate(model, batches(x, y, 3), loss_fn, metrics=("accuracy",))  # batches of 3, 3, 1
    with md.no_grad():
        out = model(x)
        whole = loss_fn(out, y).item()
    assert res["loss"] == pytest.approx(whole, rel=1e-6)
    per_batch_mean = np.mean([loss_fn(model(a), b).item() for a, b in batches(x, y, 3)])
    assert abs(per_batch_mean - whole) > 1e-4  # an unweighted mean of batch means would differ
    assert res["accuracy"] == pytest.approx(float(np.mean(out.data.argmax(1) == y.data)))


def test_fit_switches_modes_and_evaluates_without_grad():
    seen = []

    class Probe(nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = nn.Linear(5, 3)

        def forward(self, x):
            seen.append((self.training, md.is_grad_enabled()))
            return self.lin(x)

    x, y = blobs(20)
    model = Probe()
    model.eval()  # fit must put it in train mode itself
    train.fit(model, nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=0.1), batches(x, y, 10), 1,
              val_loader=batches(x, y, 20), verbose=0)
    assert seen == [(True, True), (True, True), (False, False)]


def test_history_keys_best_and_files(tmp_path):
    from minidl import metrics

    md.manual_seed(1)
    x, y = blobs()
    model = mlp()
    opt = optim.SGD(model.parameters(), lr=0.05)
    def f1_score(t, p):  # multi-class data need an average other than the default "binary"
        return metrics.f1_score(t, p, average="macro")

    h = train.fit(model, nn.CrossEntropyLoss(), opt, batches(x, y, 32), 4, val_loader=batches(x, y, 64),
                  metrics=("accuracy", f1_score), verbose=0)
    assert set(h.history) == {"loss", "accuracy", "f1_score", "val_loss", "val_accuracy", "val_f1_score", "lr",
                              "seconds"}
    assert all(len(v) == 4 for v in h.history.values())
    e, v = h.best("val_loss")
    assert v == min(h["val_loss"]) and h["val_loss"][e] == v
    assert h.best("val_accuracy")[1] == max(h["val_accuracy"])
    h.to_json(tmp_path / "h.json")
    back = train.History.from_json(tmp_path / "h.json")
    assert back.history == h.history
    h.to_csv(tmp_path / "h.csv")
    rows = (tmp_path / "h.csv").read_text().splitlines()
    assert rows[0].split(",")[:3] == ["epoch", "loss", "accuracy"] and len(rows) == 5
    with pytest.raises(KeyError, match="no key 'val_f2'"):
        h.best("val_f2")


def test_metrics_are_exact_over_the_epoch_not_a_mean_of_batches():
    from minidl import metrics

    md.manual_seed(2)
    x, y = blobs(50)
    model = mlp()
    f1 = lambda t, p: metrics.f1_score(t, p, average="macro", zero_division=0.0)  # noqa: E731
    res = train.evaluate(model, batches(x, y, 7), metrics=(f1,))
    with md.no_grad():
        whole = f1(y, model(x))
    assert res["<lambda>"] == pytest.approx(whole)


def test_early_stopping_restores_exactly_the_best_epoch():
    md.manual_seed(3)
    x, y = blobs(60)
    xv, yv = blobs(30, seed=9)
    model = mlp()
    snaps = []

    class Snap(train.Callback):
        def on_epoch_end(self, epoch, logs=None):
            snaps.append(self.run.model.state_dict())

    es = train.EarlyStopping(patience=2)
    h = train.fit(model, nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=0.8, momentum=0.9),
                  batches(x, y, 8), 40, val_loader=batches(xv, yv, 30), callbacks=[Snap(), es], verbose=0)
    best, _ = h.best("val_loss")
    assert h.epochs < 40 and es.stopped_epoch == h.epochs - 1 and es.best_epoch == best
    assert best < h.epochs - 1  # it did go past the best epoch, so restoring matters
    final = model.state_dict()
    for k in final:
        np.testing.assert_array_equal(final[k], snaps[best][k])


def _resume_setup():
    md.manual_seed(4)
    x, y = blobs(90)
    model = mlp(dropout=0.3)
    opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    sch = optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
    return model, opt, sch, ShuffledLoader(x, y, 16), batches(*blobs(30, seed=5), 30)


def test_resumed_run_equals_the_uninterrupted_one_bit_for_bit(tmp_path):
    model, opt, sch, tr, va = _resume_setup()
    ck = train.ModelCheckpoint(tmp_path / "ck_{epoch}.npz", save_best_only=False)
    es = train.EarlyStopping(patience=50)
    full = train.fit(model, nn.CrossEntropyLoss(), opt, tr, 6, val_loader=va, scheduler=sch, callbacks=[ck, es],
                     verbose=0)
    assert len(ck.saved) == 6
    md.manual_seed(123)  # a different RNG state and fresh weights: the checkpoint must restore everything
    model2, opt2, sch2, tr2, va2 = _resume_setup()
    md.manual_seed(999)
    model2.load_state_dict({k: v * 0 for k, v in model2.state_dict().items()})
    es2 = train.EarlyStopping(patience=50)
    resumed = train.fit(model2, nn.CrossEntropyLoss(), opt2, tr2, 6, val_loader=va2, scheduler=sch2,
                        callbacks=[train.ModelCheckpoint(tmp_path / "r_{epoch}.npz", save_best_only=False), es2],
                        verbose=0, resume_from=tmp_path / "ck_2.npz")
    a, b = model.state_dict(), model2.state_dict()
    for k in a:
        np.testing.assert_array_equal(a[k], b[k])
    for k in full.history:
        if k != "seconds":
            assert full[k] == resumed[k], k
    assert es2.best_epoch == es.best_epoch and sch2.get_last_lr() == sch.get_last_lr()
    with pytest.raises(ValueError, match="callback states"):
        train.fit(model2, nn.CrossEntropyLoss(), opt2, tr2, 6, val_loader=va2, scheduler=sch2, verbose=0,
                  resume_from=tmp_path / "ck_2.npz")


def test_best_checkpoint_reloads_to_the_same_accuracy(tmp_path):
    md.manual_seed(5)
    x, y = blobs(80)
    model = mlp()
    path = tmp_path / "best.npz"
    ck = train.ModelCheckpoint(path)
    es = train.EarlyStopping(patience=3)
    train.fit(model, nn.CrossEntropyLoss(), optim.Adam(model.parameters(), lr=0.01), batches(x, y, 16), 15,
              val_loader=batches(x, y, 80), callbacks=[es, ck], verbose=0)
    acc = train.evaluate(model, batches(x, y, 40), metrics=("accuracy",))["accuracy"]
    ckpt = md.load(path)
    assert set(ckpt) >= {"model", "optimizer", "scheduler", "epoch", "rng", "history"}
    assert ckpt["epoch"] == es.best_epoch
    fresh = mlp()
    fresh.load_state_dict(ckpt["model"])
    assert train.evaluate(fresh, batches(x, y, 40), metrics=("accuracy",))["accuracy"] == acc


def test_reduce_lr_on_plateau_gets_the_validation_loss():
    md.manual_seed(6)
    x, y = blobs(40)
    xv, yv = blobs(20, seed=3)
    model = mlp()
    opt = optim.SGD(model.parameters(), lr=0.5)
    sch = optim.lr_scheduler.ReduceLROnPlateau(opt, patience=0, factor=0.5, threshold=0.0)
    h = train.fit(model, nn.CrossEntropyLoss(), opt, batches(x, y, 10), 8, val_loader=batches(xv, yv, 20),
                  scheduler=sch, verbose=0)
    assert sch.best == min(h["val_loss"])
    assert h["lr"][0] == 0.5 and min(h["lr"]) < 0.5
    with pytest.raises(ValueError, match="per epoch"):
        train.fit(model, nn.CrossEntropyLoss(), opt, batches(x, y, 10), 1, scheduler=sch, scheduler_interval="batch")


def test_scheduler_per_batch_and_per_epoch():
    x, y = blobs(40)
    for interval, steps in (("batch", 2 * 4), ("epoch", 2)):
        model = mlp()
        opt = optim.SGD(model.parameters(), lr=1.0)
        sch = optim.lr_scheduler.ExponentialLR(opt, gamma=0.5)
        h = train.fit(model, nn.CrossEntropyLoss(), opt, batches(x, y, 10), 2, scheduler=sch,
                      scheduler_interval=interval, verbose=0)
        assert opt.param_groups[0]["lr"] == pytest.approx(0.5 ** steps)
        assert h["lr"][0] == 1.0


def test_ctrl_c_stops_after_the_current_batch():
    x, y = blobs(40)
    model = mlp()
    steps = []

    class Interrupt(train.Callback):
        def on_train_batch_end(self, batch, logs=None):
            steps.append((self.run.epoch, batch))
            if self.run.epoch == 1 and batch == 1:
                signal.raise_signal(signal.SIGINT)

    h = train.fit(model, nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=0.1), batches(x, y, 10), 5,
                  val_loader=batches(x, y, 40), callbacks=[Interrupt()], verbose=0)
    assert h.interrupted and h.epochs == 2
    assert steps[-1] == (1, 1)  # the batch in flight finished, no further batch ran
    assert math.isnan(h["val_loss"][1]) and not math.isnan(h["val_loss"][0])
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler

    class InterruptBetweenEpochs(train.Callback):
        def on_epoch_end(self, epoch, logs=None):
            signal.raise_signal(signal.SIGINT)

    h = train.fit(model, nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=0.1), batches(x, y, 10), 5,
                  callbacks=[InterruptBetweenEpochs()], verbose=0)
    assert h.interrupted and h.epochs == 1  # no batch of the next epoch ran


def test_verbose_output(capsys):
    x, y = blobs(20)
    model = mlp()
    opt = optim.SGD(model.parameters(), lr=0.1)
    train.fit(model, nn.CrossEntropyLoss(), opt, batches(x, y, 10), 2, verbose=0)
    assert capsys.readouterr().err == ""
    train.fit(model, nn.CrossEntropyLoss(), opt, batches(x, y, 10), 2, verbose=1)  # stderr is not a terminal
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 2 and lines[0].startswith("epoch 1/2") and "accuracy" in lines[0]


def test_progress_bar_on_a_terminal(monkeypatch, capsys):
    import sys

    monkeypatch.setattr(sys.stderr, "isatty", lambda: True, raising=False)
    x, y = blobs(20)
    model = mlp()
    train.fit(model, nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=0.1), batches(x, y, 10), 1, verbose=1)
    err = capsys.readouterr().err
    assert "epoch 1/1" in err and "2/2" in err and "loss" in err


def test_csv_logger_and_experiment_log(tmp_path):
    x, y = blobs(30)
    model = mlp()
    log = tmp_path / "run.jsonl"
    cb = [train.CSVLogger(tmp_path / "log.csv"), train.ExperimentLog(log, hparams={"lr": 0.1, "batch": 10}, seed=7)]
    h = train.fit(model, nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=0.1), batches(x, y, 10), 3,
                  val_loader=batches(x, y, 30), callbacks=cb, verbose=0)
    rows = (tmp_path / "log.csv").read_text().splitlines()
    assert rows[0].startswith("epoch,loss,accuracy,val_loss") and len(rows) == 4
    assert float(rows[2].split(",")[1]) == pytest.approx(h["loss"][1])
    recs = train.ExperimentLog.read_jsonl(log)
    assert [r["event"] for r in recs] == ["start", "epoch", "epoch", "epoch", "end"]
    assert recs[0]["hparams"] == {"lr": 0.1, "batch": 10} and recs[0]["seed"] == 7
    assert recs[0]["minidl_version"] == md.__version__ and "git_commit" in recs[0]
    assert recs[0]["optimizer"] == "SGD" and recs[0]["optimizer_hparams"]["lr"] == 0.1
    assert recs[2]["val_loss"] == pytest.approx(h["val_loss"][1])
    json.dumps(recs)


def test_debug_dump(tmp_path):
    x, y = blobs(40)
    model = mlp()
    opt = optim.SGD(model.parameters(), lr=0.1)
    dump = train.DebugDump(tmp_path / "dbg", batches=2)
    train.fit(model, nn.CrossEntropyLoss(), opt, batches(x, y, 10), 2, callbacks=[dump], verbose=0)
    names = sorted(p.name for p in (tmp_path / "dbg").iterdir())
    assert names == ["epoch000_batch00000.npz", "epoch000_batch00001.npz", "epoch001_batch00000.npz",
                     "epoch001_batch00001.npz"]
    d = md.load(tmp_path / "dbg" / "epoch000_batch00001.npz")
    np.testing.assert_array_equal(d["x"], x.data[10:20])
    np.testing.assert_array_equal(d["y"], y.data[10:20])
    assert d["output"].shape == (10, 3)
    off = train.DebugDump(None)
    before = set(tmp_path.iterdir())
    train.fit(model, nn.CrossEntropyLoss(), opt, batches(x, y, 10), 1, callbacks=[off], verbose=0)
    assert set(tmp_path.iterdir()) == before and off.written == []


def test_predict_and_array_batches():
    x, y = blobs(30)
    model = mlp()
    p1 = train.predict(model, x, batch_size=7)
    p2 = train.predict(model, batches(x, y, 8))
    with md.no_grad():
        ref = model(x).data
    np.testing.assert_allclose(p1.data, ref, rtol=1e-6)
    np.testing.assert_allclose(p2.data, ref, rtol=1e-6)
    numpy_loader = [(x.data[:15], y.data[:15]), (x.data[15:], y.data[15:])]  # arrays become tensors
    h = train.fit(model, nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=0.1), numpy_loader, 1, verbose=0)
    assert h.epochs == 1


def test_rng_state_round_trip(tmp_path):
    md.manual_seed(0)
    state = train.get_rng_state()
    md.save({"rng": state}, tmp_path / "r.npz")
    a = md.randn(5).data
    train.set_rng_state(md.load(tmp_path / "r.npz")["rng"])
    np.testing.assert_array_equal(md.randn(5).data, a)


def test_errors():
    x, y = blobs(10)
    model = mlp()
    opt = optim.SGD(model.parameters(), lr=0.1)
    with pytest.raises(TypeError, match=r"\(x, y\) pairs"):
        train.fit(model, nn.CrossEntropyLoss(), opt, [x], 1, verbose=0)
    with pytest.raises(ValueError, match="epochs"):
        train.fit(model, nn.CrossEntropyLoss(), opt, batches(x, y, 5), -1)
    with pytest.raises(ValueError, match="unknown metric 'acc'"):
        train.fit(model, nn.CrossEntropyLoss(), opt, batches(x, y, 5), 1, metrics=("acc",))
    with pytest.raises(ValueError, match="no batches"):
        train.fit(model, nn.CrossEntropyLoss(), opt, [], 1, verbose=0)
    with pytest.raises(KeyError, match="val_loss"):
        train.fit(model, nn.CrossEntropyLoss(), opt, batches(x, y, 5), 1, callbacks=[train.EarlyStopping()],
                  verbose=0)
    with pytest.raises(TypeError, match="Module"):
        train.fit(lambda t: t, nn.CrossEntropyLoss(), opt, batches(x, y, 5), 1)


def _state(model, opt):
    return model.state_dict(), opt.state_dict(), train.get_rng_state()


def _assert_same_state(before, after):
    (m0, o0, r0), (m1, o1, r1) = before, after
    for k in m0:
        np.testing.assert_array_equal(m0[k], m1[k])
    assert o0["param_groups"] == o1["param_groups"] and sorted(o0["state"]) == sorted(o1["state"])
    for i in o0["state"]:
        for k, v in o0["state"][i].items():
            np.testing.assert_array_equal(v, o1["state"][i][k])
    assert r0 == r1


def test_a_refused_resume_changes_nothing(tmp_path):
    model, opt, sch, tr, va = _resume_setup()
    train.fit(model, nn.CrossEntropyLoss(), opt, tr, 2, val_loader=va, scheduler=sch, verbose=0,
              callbacks=[train.ModelCheckpoint(tmp_path / "ck.npz", save_best_only=False)])
    md.manual_seed(77)
    model2 = mlp(dropout=0.3)
    opt2 = optim.SGD(model2.parameters(), lr=0.1, momentum=0.9)
    train.fit(model2, nn.CrossEntropyLoss(), opt2, tr, 1, verbose=0)  # momentum buffers exist: state to keep
    before = _state(model2, opt2)
    with pytest.raises(ValueError, match="saved with a scheduler, but this fit has none"):
        train.fit(model2, nn.CrossEntropyLoss(), opt2, tr, 4, val_loader=va, verbose=0,
                  callbacks=[train.ModelCheckpoint(tmp_path / "r.npz")], resume_from=tmp_path / "ck.npz")
    _assert_same_state(before, _state(model2, opt2))
    sch2 = optim.lr_scheduler.StepLR(opt2, step_size=2, gamma=0.5)
    before = _state(model2, opt2)  # the scheduler added initial_lr to the groups
    with pytest.raises(ValueError, match="callback states"):
        train.fit(model2, nn.CrossEntropyLoss(), opt2, tr, 4, val_loader=va, scheduler=sch2, verbose=0,
                  resume_from=tmp_path / "ck.npz")
    _assert_same_state(before, _state(model2, opt2))
    assert sch2.last_epoch == 0
    # the model loads, then the optimizer refuses (an SGD state into Adam): the model is put back
    adam = optim.Adam(model2.parameters(), lr=0.01)
    adam_sch = optim.lr_scheduler.StepLR(adam, step_size=2)
    before = _state(model2, adam)
    with pytest.raises(ValueError):
        train.fit(model2, nn.CrossEntropyLoss(), adam, tr, 4, val_loader=va, verbose=0, scheduler=adam_sch,
                  callbacks=[train.ModelCheckpoint(tmp_path / "r.npz")], resume_from=tmp_path / "ck.npz")
    _assert_same_state(before, _state(model2, adam))


def test_early_stopping_starts_afresh_in_every_fit():
    md.manual_seed(3)
    x, y = blobs(60)
    xv, yv = x, y
    es = train.EarlyStopping(patience=2)
    first = mlp()
    train.fit(first, nn.CrossEntropyLoss(), optim.Adam(first.parameters(), lr=0.01),
              batches(x, y, 8), 20, val_loader=batches(xv, yv, 30), callbacks=[es], verbose=0)
    fresh = mlp()
    init = fresh.state_dict()
    untrained = train.evaluate(fresh, batches(xv, yv, 30), nn.CrossEntropyLoss())["loss"]
    assert es.best < untrained - 0.5  # the first model got good: a second fit must not compare against it
    h = train.fit(fresh, nn.CrossEntropyLoss(), optim.SGD(fresh.parameters(), lr=0.0), batches(x, y, 8), 4,
                  val_loader=batches(xv, yv, 30), callbacks=[es], verbose=0)
    assert h.epochs == 3 and es.best_epoch == 0 and es.best == pytest.approx(h["val_loss"][0])
    assert es.stopped_epoch == 2
    for k, v in fresh.state_dict().items():  # lr 0: the fresh weights, not the first run's best ones
        np.testing.assert_array_equal(v, init[k])


def _constant_model(out_features, bias):
    m = nn.Linear(2, out_features)
    m.weight.data[:] = 0
    m.bias.data[:] = np.asarray(bias, dtype=np.float32)
    return m


def test_named_metrics_get_labels_from_logits_or_probabilities():
    x = np.zeros((4, 2), np.float32)
    ones, zeros = np.ones((4, 1), np.float32), np.zeros((4, 1), np.float32)
    # logits in [0, 1] and whole-number logits: class 1 exactly when the logit is > 0
    for bias, y, acc in ((0.3, ones, 1.0), (0.0, zeros, 1.0), (2.0, ones, 1.0), (-1.0, zeros, 1.0), (1.0, zeros, 0.0)):
        res = train.evaluate(_constant_model(1, bias), [(x, y)], nn.BCEWithLogitsLoss(), metrics=("accuracy",))
        assert res["accuracy"] == acc, bias
    assert train.evaluate(_constant_model(1, 0.3), [(x, ones.ravel())], metrics=("accuracy",))["accuracy"] == 1.0
    # a loss that takes probabilities: threshold 0.5
    for loss in (nn.BCELoss(), nn.functional.binary_cross_entropy):
        assert train.evaluate(_constant_model(1, 0.3), [(x, zeros)], loss, metrics=("accuracy",))["accuracy"] == 1.0
        assert train.evaluate(_constant_model(1, 0.7), [(x, ones)], loss, metrics=("accuracy",))["accuracy"] == 1.0
    # several columns: argmax, whatever the values
    y3 = np.full(4, 2, np.int64)
    for bias in ([0.1, 0.2, 0.9], [0.0, 1.0, 2.0], [-3.0, -2.0, 5.0]):
        res = train.evaluate(_constant_model(3, bias), [(x, y3)], nn.CrossEntropyLoss(), metrics=("accuracy",))
        assert res["accuracy"] == 1.0, bias
    res = train.evaluate(_constant_model(1, 0.3), [(x, ones)], nn.BCEWithLogitsLoss(), metrics=("f1_score", "recall"))
    assert res["f1_score"] == 1.0 and res["recall"] == 1.0
    # fit logs the same, in training and validation; a metric function still gets the raw outputs
    seen = []

    def raw(t, p):
        seen.append(p.data.copy())
        return 0.0

    m = _constant_model(1, 0.3)
    h = train.fit(m, nn.BCEWithLogitsLoss(), optim.SGD(m.parameters(), lr=0.0), [(x, ones)], 1,
                  val_loader=[(x, ones)], metrics=("accuracy", raw), verbose=0)
    assert h["accuracy"] == [1.0] and h["val_accuracy"] == [1.0]
    np.testing.assert_allclose(seen[0], np.full((4, 1), 0.3, np.float32))
    lab = train.predicted_labels(md.tensor(np.array([[-0.5], [0.0], [0.5], [2.0]], np.float32)))
    assert lab.tolist() == [[0], [0], [1], [1]]


def test_only_scalar_metric_names_are_accepted():
    x, y = blobs(10)
    model = mlp()
    for name in ("Tensor", "confusion_matrix", "classification_report", "_labels_of"):
        with pytest.raises(ValueError, match="accuracy, accuracy_score, dice"):
            train.evaluate(model, batches(x, y, 5), metrics=(name,))


def test_bad_arguments_are_refused_before_training(tmp_path):
    x, y = blobs(10)
    model = mlp()
    opt = optim.SGD(model.parameters(), lr=0.1)
    before = model.state_dict()
    for path in ("ck_{step}.npz", "ck_{}.npz", "ck_{epoch:s}.npz", "ck_{epoch"):
        with pytest.raises(ValueError, match=r"only field allowed is \{epoch\}"):
            train.ModelCheckpoint(tmp_path / path)
    assert train.ModelCheckpoint(tmp_path / "ck_{epoch:03d}_{{x}}.npz").path.endswith("ck_{epoch:03d}_{{x}}.npz")
    with pytest.raises(TypeError, match="scheduler must be a learning-rate scheduler.*got str"):
        train.fit(model, nn.CrossEntropyLoss(), opt, batches(x, y, 5), 1, scheduler="cosine", verbose=0)
    for k, v in model.state_dict().items():
        np.testing.assert_array_equal(v, before[k])
    for bad in (0, -1, 2.5, True):
        with pytest.raises(ValueError, match="batch_size must be a positive int"):
            train.predict(model, x, batch_size=bad)


def test_history_files_are_written_atomically(tmp_path, monkeypatch):
    import errno
    import os
    import threading

    h = train.History({"loss": [1.0, 0.5]})
    target = tmp_path / "h.json"
    target.write_text("old")

    def no_space(*a, **k):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "replace", no_space)
    with pytest.raises(OSError, match="No space"):
        h.to_json(target)
    monkeypatch.undo()
    real_fdopen = os.fdopen

    class Full:
        def __init__(self, f):
            self.f = f

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.f.close()

        def write(self, text):
            raise OSError(errno.ENOSPC, "No space left on device")

        def fileno(self):
            return self.f.fileno()

    monkeypatch.setattr(os, "fdopen", lambda fd, *a, **k: Full(real_fdopen(fd, *a, **k)))
    with pytest.raises(OSError, match="No space"):
        h.to_csv(target)
    monkeypatch.undo()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["h.json"] and target.read_text() == "old"
    folder = tmp_path / "sub"
    folder.mkdir()
    with pytest.raises(IsADirectoryError, match="it is a folder"):
        h.to_json(folder)
    assert list(folder.iterdir()) == [] and sorted(p.name for p in tmp_path.iterdir()) == ["h.json", "sub"]
    errors = []

    def writer():
        try:
            for _ in range(20):
                h.to_json(target)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=writer) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == [] and train.History.from_json(target).history == h.history
    assert sorted(p.name for p in tmp_path.iterdir()) == ["h.json", "sub"]


def test_csv_logger_append_refuses_a_different_header(tmp_path):
    x, y = blobs(30)
    model = mlp()
    opt = optim.SGD(model.parameters(), lr=0.1)
    path = tmp_path / "log.csv"
    train.fit(model, nn.CrossEntropyLoss(), opt, batches(x, y, 10), 2, callbacks=[train.CSVLogger(path)], verbose=0)
    train.fit(model, nn.CrossEntropyLoss(), opt, batches(x, y, 10), 1, callbacks=[train.CSVLogger(path, append=True)],
              verbose=0)
    rows = path.read_text().splitlines()
    assert len(rows) == 4 and rows[0] == "epoch,loss,accuracy,lr,seconds" and rows.count(rows[0]) == 1
    before_text, before_model = path.read_text(), model.state_dict()
    with pytest.raises(ValueError, match="cannot append.*val_loss"):
        train.fit(model, nn.CrossEntropyLoss(), opt, batches(x, y, 10), 1, val_loader=batches(x, y, 30),
                  callbacks=[train.CSVLogger(path, append=True)], verbose=0)
    assert path.read_text() == before_text
    for k, v in model.state_dict().items():
        np.testing.assert_array_equal(v, before_model[k])
    # used outside fit (no announced keys), the check happens at the first epoch's end, before writing
    cb = train.CSVLogger(path, append=True)
    cb.on_train_begin()
    with pytest.raises(ValueError, match="cannot append"):
        cb.on_epoch_end(0, {"loss": 1.0})
    assert path.read_text() == before_text


def test_named_dice_thresholds_every_pixel_of_a_mask_output():
    """Dice compares masks: an (N, H, W) output is thresholded pixel by pixel, not argmaxed over dim 1."""
    y = np.array([[[1, 0, 0], [0, 1, 1]]])
    logits = np.array([[[2.0, -1.0, -0.5], [-3.0, 0.5, 0.1]]], dtype=np.float32)
    assert train._resolve_metrics(("dice",))["dice"](y, logits) == 1.0
    probs = np.array([[[0.9, 0.2, 0.4], [0.1, 0.6, 0.3]]], dtype=np.float32)  # the last pixel is missed
    assert train._resolve_metrics(("dice",), probabilities=True)["dice"](y, probs) == pytest.approx(2 * 2 / (3 + 2))


def test_from_json_refuses_malformed_files_naming_them(tmp_path):
    cases = {
        "not_json.json": "{not json",
        "no_history.json": '{"loss": [1.0]}',
        "a_list.json": "[1, 2]",
        "ragged.json": '{"history": {"loss": [1.0, 0.5], "lr": [0.1]}, "interrupted": false}',
        "not_a_list.json": '{"history": {"loss": 1.0}, "interrupted": false}',
        "bad_value.json": '{"history": {"loss": ["x"]}, "interrupted": false}',
        "bad_flag.json": '{"history": {"loss": [1.0]}, "interrupted": "no"}',
    }
    for name, text in cases.items():
        (tmp_path / name).write_text(text)
        with pytest.raises(ValueError, match=name) as info:
            train.History.from_json(tmp_path / name)
        assert "expected a JSON object" in str(info.value), name
    with pytest.raises(ValueError, match="different lengths"):
        train.History.from_json(tmp_path / "ragged.json")


def test_to_json_writes_strict_json_and_round_trips_nan_and_inf(tmp_path):
    h = train.History({"loss": [1.0, math.nan, math.inf, -math.inf], "lr": [0.1, 0.1, 0.1, 0.1]})
    h.interrupted = True
    h.to_json(tmp_path / "h.json")
    text = (tmp_path / "h.json").read_text()
    assert "Infinity" not in text and "NaN" not in text

    def refuse(token):
        raise ValueError(f"non-standard JSON token {token}")

    doc = json.loads(text, parse_constant=refuse)  # strict JSON
    assert doc["history"]["loss"] == [1.0, None, "inf", "-inf"]
    back = train.History.from_json(tmp_path / "h.json")
    assert back.interrupted is True and back["lr"] == [0.1] * 4
    assert back["loss"][0] == 1.0 and math.isnan(back["loss"][1])
    assert back["loss"][2:] == [math.inf, -math.inf]


def test_best_minimises_time_and_needs_a_mode_for_lr():
    h = train.History({"loss": [3.0, 2.0, 1.0], "seconds": [2.0, 1.0, 3.0], "lr": [0.1, 0.01, 0.5]})
    assert h.best("seconds") == (1, 1.0)
    assert train._resolve_mode("epoch_time", "auto") == "min"
    with pytest.raises(ValueError, match="mode='min' or mode='max'"):
        h.best("lr")
    assert h.best("lr", mode="max") == (2, 0.5) and h.best("lr", mode="min") == (1, 0.01)
    with pytest.raises(ValueError, match="EarlyStopping: 'lr' has no best"):
        train.EarlyStopping(monitor="lr")
    assert train.EarlyStopping(monitor="lr", mode="min").mode == "min"


def test_set_rng_state_refuses_malformed_states_and_changes_nothing():
    md.manual_seed(3)
    state = train.get_rng_state()
    bad_states = [
        ({"bit_generator": "PCG64", "state": "x"}, ValueError),
        ([("bit_generator", "PCG64")], TypeError),
        ({**state, "state": "x"}, TypeError),
        ({**state, "state": {"state": "1", "inc": 1}}, TypeError),
        ({**state, "state": {"state": 1}}, ValueError),
        ({**state, "has_uint32": True}, TypeError),
    ]
    for bad, kind in bad_states:
        with pytest.raises(kind, match="set_rng_state"):
            train.set_rng_state(bad)
        assert train.get_rng_state() == state
    a = md.randn(4).data
    train.set_rng_state(state)
    np.testing.assert_array_equal(md.randn(4).data, a)


def test_callback_arguments_are_checked(tmp_path):
    bad = [
        (lambda: train.EarlyStopping(min_delta=math.nan), ValueError, "min_delta"),
        (lambda: train.EarlyStopping(min_delta=math.inf), ValueError, "min_delta"),
        (lambda: train.EarlyStopping(min_delta="0.1"), ValueError, "min_delta"),
        (lambda: train.EarlyStopping(patience=-1), ValueError, "patience"),
        (lambda: train.EarlyStopping(patience=2.5), ValueError, "patience"),
        (lambda: train.EarlyStopping(patience=True), ValueError, "patience"),
        (lambda: train.EarlyStopping(monitor=3), TypeError, "monitor"),
        (lambda: train.EarlyStopping(restore_best_weights="yes"), TypeError, "restore_best_weights"),
        (lambda: train.ModelCheckpoint(tmp_path / "c.npz", monitor=None), TypeError, "monitor"),
        (lambda: train.ModelCheckpoint(tmp_path / "c.npz", mode="best"), ValueError, "mode"),
        (lambda: train.ModelCheckpoint(tmp_path / "c.npz", mode=1), TypeError, "mode"),
        (lambda: train.ModelCheckpoint(tmp_path / "c.npz", save_best_only="no"), TypeError, "save_best_only"),
        (lambda: train.ModelCheckpoint(3), TypeError, "path"),
        (lambda: train.ModelCheckpoint(""), ValueError, "empty"),
        (lambda: train.CSVLogger(3), TypeError, "CSVLogger: path"),
        (lambda: train.CSVLogger(b"log.csv"), TypeError, "CSVLogger: path"),
        (lambda: train.CSVLogger(tmp_path / "l.csv", append="yes"), TypeError, "append"),
        (lambda: train.DebugDump(tmp_path, batches="2"), ValueError, "batches"),
        (lambda: train.DebugDump(tmp_path, batches=-1), ValueError, "batches"),
        (lambda: train.DebugDump(5), TypeError, "working_dir"),
    ]
    for make, kind, what in bad:
        with pytest.raises(kind, match=what):
            make()
    assert train.DebugDump(None, batches=0).batches == 0


def test_reused_model_checkpoint_saves_the_new_fits_first_epoch(tmp_path):
    md.manual_seed(0)
    x, y = blobs(60)
    ck = train.ModelCheckpoint(tmp_path / "best_{epoch}.npz")
    ck.best = -1.0  # as if an earlier fit reached a val_loss no new model can beat
    model = mlp()
    train.fit(model, nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=0.01), batches(x, y, 30), 2,
              val_loader=batches(x, y, 60), callbacks=[ck], verbose=0)
    assert ck.saved and ck.saved[0].endswith("best_0.npz")
    assert ck.best == min(md.load(ck.saved[-1])["history"]["val_loss"])
    # a resumed fit still restores the best value saved in the checkpoint
    ck2 = train.ModelCheckpoint(tmp_path / "again_{epoch}.npz")
    last = int(md.load(ck.saved[-1])["epoch"]) + 1  # nothing left to train: only the restore happens
    train.fit(model, nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=0.01), batches(x, y, 30), last,
              val_loader=batches(x, y, 60), callbacks=[ck2], verbose=0, resume_from=ck.saved[-1])
    assert ck2.best == ck.best


def test_history_writers_refuse_an_empty_path():
    with pytest.raises(ValueError, match="empty"):
        train.History({"loss": [1.0]}).to_json("")


def test_lower_is_better_is_the_one_rule_for_best():
    for key in ("loss", "val_loss", "error_rate", "val_mse", "mae", "seconds", "epoch_time"):
        assert md.metrics.lower_is_better(key) and train._resolve_mode(key, "auto") == "min", key
    for key in ("accuracy", "val_f1_score", "dice"):
        assert not md.metrics.lower_is_better(key) and train._resolve_mode(key, "auto") == "max", key
    with pytest.raises(ValueError, match="'lr' has no best value"):
        md.metrics.lower_is_better("lr")
