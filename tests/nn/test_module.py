"""nn.Module, nn.Parameter and the containers: registration, traversal, modes, hooks,
devices, state_dict / load_state_dict (each error with its message), repr."""

from collections import OrderedDict

import numpy as np
import pytest

import minidl as md
import minidl.nn as nn


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(4, 3)
        self.act = nn.ReLU()
        self.fc2 = nn.Linear(3, 2)
        self.register_buffer("count", md.zeros(1))
        self.scale = nn.Parameter(md.ones(2))
        self.not_a_param = md.ones(3)  # a plain tensor attribute: not registered

    def forward(self, x):
        return self.fc2(self.act(self.fc1(x))) * self.scale


# ----------------------------------------------------------------------------- Parameter


def test_parameter_is_tensor_requiring_grad():
    p = nn.Parameter(md.zeros(2, 3))
    assert isinstance(p, md.Tensor) and p.requires_grad and p.is_leaf
    assert repr(p).startswith("Parameter containing:")
    assert not nn.Parameter(md.zeros(2), requires_grad=False).requires_grad


def test_parameter_shares_the_tensor_array():
    t = md.zeros(3)
    assert nn.Parameter(t).data is t.data


def test_parameter_of_integers_refused():
    with pytest.raises(TypeError, match="floating-point"):
        nn.Parameter(md.tensor([1, 2]))


# ----------------------------------------------------------------------------- registration


def test_registration_and_dotted_names():
    b = Block()
    names = [n for n, _ in b.named_parameters()]
    assert names == ["scale", "fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"]
    assert [n for n, _ in b.named_buffers()] == ["count"]
    assert [n for n, _ in b.named_children()] == ["fc1", "act", "fc2"]
    assert [n for n, _ in b.named_modules()] == ["", "fc1", "act", "fc2"]
    assert len(list(b.modules())) == 4
    assert b.num_parameters() == 2 + 4 * 3 + 3 + 3 * 2 + 2


def test_nested_dotted_names():
    net = nn.Sequential(Block(), nn.Sequential(nn.Linear(2, 2)))
    names = [n for n, _ in net.named_parameters()]
    assert "0.fc1.weight" in names and "1.0.bias" in names


def test_shared_parameter_counted_once():
    fc = nn.Linear(3, 3)
    net = nn.Sequential(fc, nn.ReLU(), fc)
    assert len(list(net.parameters())) == 2
    assert net.num_parameters() == 12
    other = nn.Linear(3, 3)
    other.weight = fc.weight  # tied weight between two distinct modules
    tied = nn.Sequential(fc, other)
    assert len(list(tied.parameters())) == 3
    assert len(list(tied.named_parameters(remove_duplicate=False))) == 4


def test_reassigning_and_deleting():
    b = Block()
    b.fc1 = nn.Identity()
    assert "fc1.weight" not in dict(b.named_parameters())
    b.scale = None
    assert "scale" not in dict(b.named_parameters())
    with pytest.raises(TypeError, match="expected an nn.Parameter or None"):
        b.scale = md.ones(2)
    del b.fc2
    assert not hasattr(b, "fc2")
    with pytest.raises(AttributeError, match="'Block' object has no attribute 'nope'"):
        b.nope


def test_plain_list_of_modules_is_an_error():
    class Bad(nn.Module):
        def __init__(self):
            super().__init__()
            self.layers = [nn.Linear(2, 2), nn.Linear(2, 2)]

    with pytest.raises(TypeError, match="ModuleList"):
        Bad()


def test_plain_lists_of_numbers_are_fine():
    m = nn.Module()
    m.sizes = [1, 2, 3]
    assert m.sizes == [1, 2, 3]


def test_forgetting_super_init_is_a_clear_error():
    class NoInit(nn.Module):
        def __init__(self):
            self.fc = nn.Linear(2, 2)

    with pytest.raises(AttributeError, match=r"super\(\).__init__\(\)"):
        NoInit()


def test_register_buffer_and_parameter_checks():
    m = nn.Module()
    with pytest.raises(TypeError, match="expected a Tensor"):
        m.register_buffer("b", np.zeros(2))
    with pytest.raises(KeyError, match="invalid name"):
        m.register_buffer("a.b", md.zeros(2))
    with pytest.raises(TypeError, match="register_parameter"):
        m.register_parameter("w", md.zeros(2))
    m.register_buffer("tmp", md.zeros(2), persistent=False)
    m.register_buffer("keep", md.zeros(2))
    assert list(m.state_dict()) == ["keep"]
    assert [n for n, _ in m.named_buffers()] == ["tmp", "keep"]
    with pytest.raises(TypeError, match="expected a Tensor or None"):
        m.keep = 3.0


def test_module_list_and_dict_register():
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.layers = nn.ModuleList([nn.Linear(2, 2) for _ in range(3)])
            self.heads = nn.ModuleDict({"a": nn.Linear(2, 1), "b": nn.Linear(2, 3)})

        def forward(self, x):
            for layer in self.layers:
                x = layer(x).relu()
            return {k: h(x) for k, h in self.heads.items()}

    net = Net()
    names = [n for n, _ in net.named_parameters()]
    assert names[:2] == ["layers.0.weight", "layers.0.bias"] and "heads.b.bias" in names
    assert len(net.layers) == 3 and isinstance(net.layers[-1], nn.Linear)
    net.layers.append(nn.Linear(2, 2))
    assert len(list(net.parameters())) == 2 * 4 + 4
    assert "a" in net.heads and list(net.heads) == ["a", "b"]
    out = net(md.randn(5, 2))
    assert out["b"].shape == (5, 3)
    del net.layers[0]
    assert [n for n, _ in net.layers.named_children()] == ["0", "1", "2"]
    with pytest.raises(IndexError, match="out of range"):
        net.layers[7]
    with pytest.raises(KeyError, match="no key 'c'"):
        net.heads["c"]
    with pytest.raises(TypeError, match="expected a Module"):
        net.layers.append(3)


def test_sequential_indexing_len_iter_append_and_ordereddict():
    seq = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    assert len(seq) == 3 and isinstance(seq[1], nn.ReLU) and isinstance(seq[-1], nn.Linear)
    assert [type(m).__name__ for m in seq] == ["Linear", "ReLU", "Linear"]
    head = seq[:2]
    assert isinstance(head, nn.Sequential) and len(head) == 2 and head[0] is seq[0]
    seq.append(nn.Sigmoid())
    assert len(seq) == 4
    y = seq(md.randn(5, 3))
    assert y.shape == (5, 2) and (y.numpy() > 0).all() and (y.numpy() < 1).all()
    named = nn.Sequential(OrderedDict([("fc", nn.Linear(3, 1)), ("act", nn.Tanh())]))
    assert [n for n, _ in named.named_parameters()] == ["fc.weight", "fc.bias"]
    with pytest.raises(TypeError, match="argument 1 is a int"):
        nn.Sequential(nn.ReLU(), 3)
    with pytest.raises(IndexError, match="out of range"):
        seq[10]


def test_sequential_matches_manual_composition():
    seq = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2))
    x = md.randn(6, 3)
    manual = seq[2](seq[1](seq[0](x)))
    np.testing.assert_array_equal(seq(x).numpy(), manual.numpy())


# ----------------------------------------------------------------------------- modes, grads


def test_train_eval_recursive():
    net = nn.Sequential(Block(), nn.Sequential(nn.Dropout(0.5)))
    assert all(m.training for m in net.modules())
    assert net.eval() is net
    assert not any(m.training for m in net.modules())
    net.train()
    assert all(m.training for m in net.modules())
    net[1].train(False)
    assert net.training and not net[1][0].training
    with pytest.raises(TypeError, match="bool"):
        net.train("no")


def test_zero_grad_set_to_none_and_zeros():
    net = Block()
    net(md.randn(3, 4)).sum().backward()
    assert all(p.grad is not None for p in net.parameters())
    net.zero_grad(set_to_none=False)
    assert all(p.grad is not None and not p.grad.any() for p in net.parameters())
    net.zero_grad()
    assert all(p.grad is None for p in net.parameters())


def test_requires_grad_freezes():
    net = Block().requires_grad_(False)
    assert not any(p.requires_grad for p in net.parameters())
    assert net.num_parameters(trainable_only=True) == 0


def test_to_dtype_keeps_parameter_objects():
    net = Block()
    before = list(net.parameters())
    net.to(md.float64)
    after = list(net.parameters())
    assert all(a is b for a, b in zip(before, after))
    assert all(p.dtype == np.float64 for p in after) and net.count.dtype == np.float64
    assert net(md.randn(2, 4, dtype=md.float64)).dtype == np.float64
    net.float()
    assert all(p.dtype == np.float32 for p in net.parameters())
    with pytest.raises(TypeError, match="floating-point"):
        net.to(md.int64)


def test_to_cpu_is_noop_and_cuda_needs_gpu():
    net = Block()
    w = net.fc1.weight.data
    assert net.cpu() is net and net.fc1.weight.data is w
    if not md.cupy_available():
        with pytest.raises(RuntimeError, match="cannot move"):
            net.cuda()
    for bad in ("tpu", 3):
        with pytest.raises(TypeError, match="expected a device .* or a floating-point dtype, got"):
            net.to(bad)


LAYERS_WITH_FACTORY_ARGS = [
    lambda **kw: nn.Linear(3, 2, **kw), lambda **kw: nn.Conv2d(1, 2, 3, **kw), lambda **kw: nn.Maxout(3, 2, 2, **kw),
    lambda **kw: nn.BatchNorm1d(3, **kw), lambda **kw: nn.BatchNorm2d(3, **kw), lambda **kw: nn.LayerNorm(3, **kw),
    lambda **kw: nn.GroupNorm(1, 3, **kw), lambda **kw: nn.InstanceNorm2d(3, affine=True, **kw),
]


@pytest.mark.parametrize("make", LAYERS_WITH_FACTORY_ARGS)
def test_layers_take_device_and_dtype_like_torch(make):
    """PyTorch's factory keywords: parameters and float buffers are made on ``device`` with ``dtype``."""
    layer = make(device="cpu", dtype=md.float64)
    floats = [t for t in layer.state_dict().values() if np.asarray(t).dtype.kind == "f"]
    assert floats and all(t.device == "cpu" and t.dtype == np.float64 for t in floats)
    with pytest.raises(ValueError, match="unknown device 'tpu'"):
        make(device="tpu")
    if not md.cupy_available():
        with pytest.raises(RuntimeError, match="device 'cuda' is not available"):
            make(device="cuda")


@pytest.mark.skipif(not md.cupy_available(), reason="CuPy with a GPU is not available")
def test_to_cuda_moves_parameters_buffers_and_grads_in_place():  # pragma: no cover - GPU
    net = Block()
    net(md.randn(3, 4)).sum().backward()
    params = list(net.parameters())
    net.to("cuda")
    assert all(p.device == "cuda:0" for p in net.parameters()) and net.count.device == "cuda:0"
    assert all(a is b for a, b in zip(params, net.parameters()))
    assert all(md.backend.device_of(p.grad) == "cuda:0" for p in net.parameters())
    net.cpu()
    assert all(p.device == "cpu" for p in net.parameters())


# ----------------------------------------------------------------------------- hooks


def test_forward_hook_records_and_removes():
    net = nn.Sequential(nn.Linear(3, 4), nn.ReLU())
    seen = []
    handle = net[0].register_forward_hook(lambda mod, inp, out: seen.append((mod, inp[0].shape, out.shape)))
    net(md.randn(5, 3))
    assert seen == [(net[0], (5, 3), (5, 4))]
    handle.remove()
    net(md.randn(5, 3))
    assert len(seen) == 1
    handle.remove()  # removing twice is harmless


def test_forward_hook_can_replace_output_and_pre_hook_inputs():
    relu = nn.ReLU()
    h1 = relu.register_forward_hook(lambda m, i, o: o * 2)
    h2 = relu.register_forward_pre_hook(lambda m, i: (i[0] + 1,))
    np.testing.assert_array_equal(relu(md.tensor([-3.0, 1.0])).numpy(), [0.0, 4.0])
    h1.remove()
    h2.remove()
    with pytest.raises(TypeError, match="callable"):
        relu.register_forward_hook(3)


def test_module_without_forward():
    with pytest.raises(NotImplementedError, match="must define forward"):
        nn.Module()(1)


# ----------------------------------------------------------------------------- state_dict


def test_state_dict_keys_copies_and_order():
    net = nn.Sequential(Block(), nn.Linear(2, 2))
    sd = net.state_dict()
    assert list(sd) == ["0.scale", "0.count", "0.fc1.weight", "0.fc1.bias", "0.fc2.weight", "0.fc2.bias",
                        "1.weight", "1.bias"]
    assert all(isinstance(v, np.ndarray) for v in sd.values())
    sd["1.weight"][...] = 99
    assert not (net[1].weight.numpy() == 99).any()  # a copy, not a view


def test_state_dict_includes_all_names_of_shared_module():
    fc = nn.Linear(2, 2)
    net = nn.Sequential(fc, fc)
    assert list(net.state_dict()) == ["0.weight", "0.bias", "1.weight", "1.bias"]
    nn.Sequential(nn.Linear(2, 2), nn.Linear(2, 2)).load_state_dict(net.state_dict())
    net.load_state_dict(net.state_dict())


def test_load_state_dict_round_trip_identical_outputs():
    a, b = Block(), Block()
    x = md.randn(4, 4)
    assert not np.array_equal(a(x).numpy(), b(x).numpy())
    params_b = list(b.parameters())
    result = b.load_state_dict(a.state_dict())
    assert result.missing_keys == [] and result.unexpected_keys == []
    np.testing.assert_array_equal(a(x).numpy(), b(x).numpy())
    assert all(p is q for p, q in zip(params_b, b.parameters()))  # loaded in place


def test_load_state_dict_missing_and_unexpected_keys_listed():
    net = Block()
    sd = net.state_dict()
    del sd["fc1.bias"], sd["count"]
    sd["extra.weight"] = np.zeros(2)
    sd["other"] = np.zeros(1)
    with pytest.raises(ValueError) as err:
        net.load_state_dict(sd)
    msg = str(err.value)
    assert "missing keys: ['count', 'fc1.bias']" in msg
    assert "unexpected keys: ['extra.weight', 'other']" in msg
    keys = net.load_state_dict(sd, strict=False)
    assert keys.missing_keys == ["count", "fc1.bias"] and keys.unexpected_keys == ["extra.weight", "other"]


def test_load_state_dict_shape_mismatch_names_key_and_shapes():
    net = Block()
    sd = net.state_dict()
    sd["fc2.weight"] = np.zeros((3, 2), dtype=np.float32)
    before = net.fc1.weight.numpy().copy()
    sd["fc1.weight"] = np.zeros((3, 4), dtype=np.float32)
    with pytest.raises(ValueError, match=r"size mismatch for 'fc2.weight'.*\(3, 2\).*\(2, 3\)"):
        net.load_state_dict(sd)
    with pytest.raises(ValueError, match="size mismatch"):
        net.load_state_dict(sd, strict=False)
    np.testing.assert_array_equal(net.fc1.weight.numpy(), before)  # nothing loaded on error


def test_load_state_dict_converts_dtype_and_accepts_tensors_and_lists():
    net = nn.Linear(2, 1)
    sd = {"weight": np.array([[1.0, 2.0]], dtype=np.float64), "bias": md.tensor([0.5])}
    net.load_state_dict(sd)
    assert net.weight.dtype == np.float32 and net.weight.numpy().tolist() == [[1.0, 2.0]]
    net.load_state_dict({"weight": [[3.0, 4.0]], "bias": [1.0]})
    assert net(md.tensor([[1.0, 1.0]])).item() == 8.0
    with pytest.raises(TypeError, match="expected a dict"):
        net.load_state_dict([1, 2])
    with pytest.raises(TypeError, match="dtype"):
        net.load_state_dict({"weight": np.array([["a", "b"]]), "bias": [1.0]})


def test_load_state_dict_bumps_version_so_stale_graphs_fail():
    net = nn.Linear(2, 2)
    y = (net.weight * net.weight).sum()
    net.load_state_dict(nn.Linear(2, 2).state_dict())
    with pytest.raises(RuntimeError, match="modified in place"):
        y.backward()


# ----------------------------------------------------------------------------- repr


def test_repr_tree_shapes_and_counts():
    net = nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 10))
    text = repr(net)
    lines = text.splitlines()
    assert lines[0] == "Sequential(  # 203,530 parameters"
    assert lines[1] == ("  (0): Linear(in_features=784, out_features=256, bias=True)"
                        "  [weight (256, 784), bias (256,): 200,960 params]")
    assert lines[2] == "  (1): ReLU()"
    assert lines[-1] == ")"
    assert repr(nn.Linear(2, 3, bias=False)) == \
        "Linear(in_features=2, out_features=3, bias=False)  [weight (3, 2): 6 params]"


def test_repr_nested_indents():
    text = repr(nn.Sequential(nn.Sequential(nn.Tanh())))
    assert "  (0): Sequential(\n    (0): Tanh()\n  )" in text


def test_deepcopy_gives_an_independent_model():
    import copy

    net = nn.Sequential(nn.Linear(3, 2), nn.Dropout(0.1))
    twin = copy.deepcopy(net)
    assert isinstance(twin[0].weight, nn.Parameter) and twin[0].weight is not net[0].weight
    np.testing.assert_array_equal(twin[0].weight.numpy(), net[0].weight.numpy())
    with md.no_grad():
        twin[0].weight.fill_(0)
    assert net[0].weight.numpy().any()


@pytest.mark.parametrize("set_to_none", [True, False])
def test_module_and_optimizer_zero_grad_behave_the_same(set_to_none):
    import minidl.optim as optim

    results = []
    for use_optimizer in (False, True):
        model = nn.Linear(3, 2)
        model(md.ones(4, 3)).sum().backward()
        before = model.weight.grad
        if use_optimizer:
            optim.SGD(model.parameters(), lr=0.1).zero_grad(set_to_none=set_to_none)
        else:
            model.zero_grad(set_to_none=set_to_none)
        g = model.weight.grad
        results.append((g is None, g is before, None if g is None else float(abs(g).sum())))
    assert results[0] == results[1]
    assert results[0] == ((True, False, None) if set_to_none else (False, True, 0.0))


def test_zero_grad_defaults_to_set_to_none():
    import inspect

    import minidl.optim as optim

    for fn in (nn.Module.zero_grad, optim.Optimizer.zero_grad):
        assert inspect.signature(fn).parameters["set_to_none"].default is True


def test_parameter_attribute_mirror_follows_the_registry():
    """Parameters live in ``_parameters`` and are mirrored in the instance dict (a fast
    ``self.weight``); every way of setting, replacing, clearing or deleting keeps them equal."""
    import minidl.nn as nn

    m = nn.Linear(3, 2)
    assert m.__dict__["weight"] is m._parameters["weight"] is m.weight
    new = nn.Parameter(md.zeros(2, 3))
    m.weight = new
    assert m.weight is new and m._parameters["weight"] is new and any(p is new for p in m.parameters())
    m.bias = None
    assert m.bias is None and m._parameters["bias"] is None and len(list(m.parameters())) == 1
    m.register_parameter("bias", nn.Parameter(md.ones(2)))
    assert m.bias is m._parameters["bias"] and float(m.bias.sum().item()) == 2.0
    del m.weight
    assert "weight" not in m._parameters and "weight" not in m.__dict__
    with pytest.raises(AttributeError):
        m.weight
    m.weight = nn.Parameter(md.ones(2, 3))  # a plain attribute name again: registered afresh
    assert m.weight is m._parameters["weight"]
    m.weight = nn.Linear(1, 1)  # a module under a parameter's name replaces it everywhere
    assert "weight" not in m._parameters and "weight" not in m.__dict__ and isinstance(m.weight, nn.Linear)


def test_get_submodule_parameter_and_buffer_by_dotted_path():
    model = md.nn.Sequential(md.nn.Linear(2, 3), md.nn.Sequential(md.nn.BatchNorm1d(3)))
    assert model.get_submodule("") is model and model.get_submodule("1.0") is model[1][0]
    assert model.get_parameter("0.weight") is model[0].weight
    assert model.get_buffer("1.0.running_mean") is model[1][0].running_mean
    with pytest.raises(AttributeError, match=r"get_submodule\('2'\): Sequential has no submodule '2'; its submodules"):
        model.get_submodule("2")
    with pytest.raises(AttributeError, match=r"get_parameter\('1.0.running_mean'\): BatchNorm1d has no parameter "
                                             r"'running_mean'; its parameters are \['weight', 'bias'\]"):
        model.get_parameter("1.0.running_mean")
    with pytest.raises(AttributeError, match="Linear has no submodule 'weight'"):
        model.get_submodule("0.weight")
