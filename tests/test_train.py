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
