"""Done-when check: a plain minidl loop (nn + optim) on a stratified digits split."""

import numpy as np

import minidl as md
import minidl.data as data
import minidl.nn as nn
import minidl.optim as optim


def test_mlp_on_stratified_digits_split_reaches_96_percent():
    md.manual_seed(0)
    X, y = data.load_digits()
    (Xtr, ytr), _, _, (Xte, yte) = data.train_dev_test_split(X, y, dev=0.0, test=0.25, stratify=True, seed=0)
    assert np.all(np.abs(np.bincount(yte) - np.bincount(y) * len(yte) / len(y)) < 1)
    scaler = data.StandardScaler().fit(Xtr)                       # statistics from the training part only
    loader = data.DataLoader(data.TensorDataset(scaler.transform(Xtr), ytr), batch_size=32, shuffle=True, seed=0)
    model = nn.Sequential(nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 10))
    opt = optim.Adam(model.parameters(), lr=1e-2)
    for _ in range(8):
        for xb, yb in loader:
            loss = nn.functional.cross_entropy(model(xb), yb)
            opt.zero_grad()
            loss.backward()
            opt.step()
    model.eval()
    with md.no_grad():
        pred = model(md.tensor(scaler.transform(Xte))).argmax(1).numpy()
    accuracy = float((pred == yte).mean())
    assert accuracy >= 0.96, accuracy
