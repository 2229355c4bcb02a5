"""Dataset, TensorDataset, Subset, ConcatDataset, samplers and DataLoader."""

import numpy as np
import pytest

import minidl as md
import minidl.data as data


def test_tensor_dataset_items_and_errors():
    X, y = np.arange(12.0).reshape(6, 2), np.arange(6)
    ds = data.TensorDataset(X, y)
    assert len(ds) == 6
    xi, yi = ds[-1]
    assert isinstance(xi, md.Tensor) and xi.tolist() == [10.0, 11.0] and yi.item() == 5
    with pytest.raises(IndexError, match="out of range for 6"):
        ds[6]
    with pytest.raises(ValueError, match=r"size mismatch.*\[6, 5\]"):
        data.TensorDataset(X, y[:5])
    with pytest.raises(ValueError, match="at least one"):
        data.TensorDataset()


def test_subset_and_concat():
    ds = data.TensorDataset(np.arange(5.0), np.arange(5))
    sub = data.Subset(ds, [4, 0, 2])
    assert [sub[i][1].item() for i in range(3)] == [4, 0, 2]
    assert sub.get_batch(np.array([2, 0]))[1].tolist() == [2, 4]
    cat = data.ConcatDataset([ds, sub])
    assert len(cat) == 8 and cat[5][1].item() == 4 and cat[-1][1].item() == 2
    assert len(ds + sub) == 8
    with pytest.raises(IndexError):
        data.Subset(ds, [5])


def _epoch_labels(loader):
    return np.concatenate([yb.numpy() for _, yb in loader])


def test_digits_loader_visits_every_sample_once_per_epoch():
    X, y = data.load_digits()
    ids = np.arange(len(y))
    loader = data.DataLoader(data.TensorDataset(X, ids), batch_size=32, shuffle=True, seed=0)
    assert len(loader) == 57  # ceil(1797 / 32)
    epochs = [_epoch_labels(loader) for _ in range(3)]
    for e in epochs:
        assert np.array_equal(np.sort(e), ids)
    assert not np.array_equal(epochs[0], epochs[1])       # a fresh permutation each epoch
    again = data.DataLoader(data.TensorDataset(X, ids), batch_size=32, shuffle=True, seed=0)
    assert np.array_equal(_epoch_labels(again), epochs[0])  # reproducible from the seed
    xb, yb = next(iter(loader))
    assert xb.shape == (32, 64) and xb.dtype == md.float32 and yb.dtype == md.int64
    assert np.array_equal(xb.numpy(), X[yb.numpy()])


def test_shuffle_follows_manual_seed_when_no_seed():
    ds = data.TensorDataset(np.arange(50))
    md.manual_seed(3)
    a = _first_field(data.DataLoader(ds, batch_size=7, shuffle=True))
    md.manual_seed(3)
    b = _first_field(data.DataLoader(ds, batch_size=7, shuffle=True))
    md.manual_seed(4)
    c = _first_field(data.DataLoader(ds, batch_size=7, shuffle=True))
    assert np.array_equal(a, b) and not np.array_equal(a, c)


def _first_field(loader):
    return np.concatenate([b[0].numpy() for b in loader])


def test_len_drop_last_and_sequential_order():
    ds = data.TensorDataset(np.arange(10))
    loader = data.DataLoader(ds, batch_size=4)
    assert len(loader) == 3 and [len(b[0]) for b in loader] == [4, 4, 2]
    assert _first_field(loader).tolist() == list(range(10))
    dl = data.DataLoader(ds, batch_size=4, drop_last=True)
    assert len(dl) == 2 and [len(b[0]) for b in dl] == [4, 4]


def test_tensor_dataset_epoch_is_one_fancy_index_per_batch(monkeypatch):
    ds = data.TensorDataset(np.arange(100.0), np.arange(100))
    monkeypatch.setattr(data.TensorDataset, "__getitem__", lambda self, i: pytest.fail("per-sample call"))
    assert sum(len(b[0]) for b in data.DataLoader(ds, batch_size=16, shuffle=True, seed=1)) == 100


class Pairs(data.Dataset):
    """A plain dataset of (array, Python float, Python int) tuples."""

    def __len__(self):
        return 5

    def __getitem__(self, i):
        return np.full(3, i, dtype=np.float32), 0.5 * i, i


def test_generic_dataset_is_collated():
    xb, fb, ib = next(iter(data.DataLoader(Pairs(), batch_size=4)))
    assert xb.shape == (4, 3) and xb.dtype == md.float32
    assert fb.dtype == md.float32 and fb.tolist() == [0.0, 0.5, 1.0, 1.5]
    assert ib.dtype == md.int64 and ib.tolist() == [0, 1, 2, 3]
    d = data.default_collate([{"a": md.tensor([1.0])}, {"a": md.tensor([2.0])}])
    assert d["a"].tolist() == [[1.0], [2.0]]


def test_mismatched_batch_is_a_clear_error():
    with pytest.raises(ValueError, match=r"field 0 of sample 1 has shape \(2,\) but sample 0's has \(3,\)"):
        data.default_collate([(np.zeros(3), 1), (np.zeros(2), 2)])
    with pytest.raises(ValueError, match="sample 1 is a tuple of 1 fields"):
        data.default_collate([(np.zeros(3), 1), (np.zeros(3),)])
    with pytest.raises(TypeError, match="str"):
        data.default_collate(["a", "b"])


def test_loader_argument_errors():
    ds = data.TensorDataset(np.arange(4))
    with pytest.raises(ValueError, match="mutually exclusive"):
        data.DataLoader(ds, shuffle=True, sampler=data.SequentialSampler(ds))
    with pytest.raises(ValueError, match="batch_size must be a positive int"):
        data.DataLoader(ds, batch_size=0)
    with pytest.raises(TypeError, match="__len__"):
        data.DataLoader(42)


def test_samplers():
    ds = data.TensorDataset(np.arange(20))
    assert sorted(data.RandomSampler(ds, seed=0)) == list(range(20))
    r = data.RandomSampler(ds, replacement=True, num_samples=50, seed=0)
    assert len(r) == 50 and len(list(r)) == 50 and max(r) < 20
    s = data.SubsetRandomSampler([3, 5, 7], seed=0)
    assert sorted(s) == [3, 5, 7]
    loader = data.DataLoader(ds, batch_size=5, sampler=s)
    assert len(loader) == 1 and sorted(_first_field(loader).tolist()) == [3, 5, 7]


def test_weighted_random_sampler_follows_weights():
    w = np.array([1.0, 0.0, 3.0])
    draws = np.array(list(data.WeightedRandomSampler(w, 40_000, seed=0)))
    freq = np.bincount(draws, minlength=3) / len(draws)
    assert freq[1] == 0 and abs(freq[2] - 0.75) < 0.01
    no_rep = list(data.WeightedRandomSampler([1, 1, 1, 1], 4, replacement=False, seed=0))
    assert sorted(no_rep) == [0, 1, 2, 3]
    with pytest.raises(ValueError, match="non-zero weights"):
        data.WeightedRandomSampler(w, 3, replacement=False)
    with pytest.raises(ValueError, match="non-negative"):
        data.WeightedRandomSampler([1.0, -1.0], 2)


def test_balanced_batches_with_class_weights():
    y = np.array([0] * 90 + [1] * 10)
    w = data.class_weights(y)[y]
    loader = data.DataLoader(data.TensorDataset(np.arange(100), y), batch_size=100,
                             sampler=data.WeightedRandomSampler(w, 10_000, seed=1))
    labels = np.concatenate([yb.numpy() for _, yb in loader])
    assert abs(labels.mean() - 0.5) < 0.02


def test_sampler_indices_must_be_integers_in_range():
    ds = data.TensorDataset(np.arange(10.0))
    for bad in ([0.9, 1.7, 9.99], np.array([0.0, 1.0]), [True, 1], np.array([True, False])):
        with pytest.raises(TypeError, match="must be integers"):
            data.SubsetRandomSampler(bad)
    s = data.SubsetRandomSampler(np.array([9, 3], dtype=np.int32), seed=0)
    assert sorted(s) == [3, 9] and all(type(i) is int for i in s)
    assert list(data.SubsetRandomSampler(np.int64(4))) == [4]
    with pytest.raises(IndexError, match="index 19 is out of range for a dataset of 10 samples"):
        data.DataLoader(ds, sampler=data.SubsetRandomSampler([1, 19]))
    with pytest.raises(TypeError, match="must be integers"):
        data.DataLoader(ds, sampler=[0.5, 1.9])
    with pytest.raises(IndexError, match="out of range"):
        data.DataLoader(ds, sampler=[0, 10])
    with pytest.raises(TypeError, match="sampler must be a Sampler or a sized iterable"):
        data.DataLoader(ds, sampler=5)
    batches = list(data.DataLoader(ds, batch_size=2, sampler=[3, np.int64(1), 4]))
    np.testing.assert_array_equal(batches[0][0].numpy(), [3.0, 1.0])

    class Bad(data.Sampler):
        def epoch_indices(self):
            return np.array([0, 12])

        def __len__(self):
            return 2

    with pytest.raises(IndexError, match="index 12 is out of range"):
        list(data.DataLoader(ds, sampler=Bad()))


def test_concat_of_non_datasets_and_numpy_num_samples():
    for bad in ([1, 2], 5):
        with pytest.raises(TypeError, match="ConcatDataset"):
            data.ConcatDataset(bad)
    ds = data.TensorDataset(np.arange(5.0))
    s = data.RandomSampler(ds, num_samples=np.int64(3), seed=0)
    assert len(s) == 3 and len(list(s)) == 3
    with pytest.raises(ValueError, match="num_samples must be a positive int"):
        data.RandomSampler(ds, num_samples=True)
