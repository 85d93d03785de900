"""TimeDistributed against the per-step loop, Keras, and torch's own compile/export."""

from __future__ import annotations

import copy
import pickle
from collections import namedtuple
from typing import Any

import pytest
import torch
from helpers import assert_trees_close, check_layer
from torch import Tensor, nn

from timedist import TimeDistributed

Pair = namedtuple("Pair", ["features", "norm"])


def per_step(module: nn.Module, *inputs: Any, batch_first: bool = True, **kwargs: Any) -> Any:
    """The reference: ``module`` on each step, stacked along the time dimension."""
    from torch.utils import _pytree as pytree

    tdim = 1 if batch_first else 0
    steps = pytree.tree_leaves(inputs)[0].shape[tdim]
    outs = [
        module(*pytree.tree_map(lambda x, t=t: x.select(tdim, t), inputs), **kwargs)
        for t in range(steps)
    ]
    flat = [pytree.tree_flatten(o)[0] for o in outs]
    spec = pytree.tree_flatten(outs[0])[1]
    return pytree.tree_unflatten(
        [torch.stack([f[i] for f in flat], tdim) for i in range(len(flat[0]))], spec
    )


def small_cnn(bn: bool = True) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(3, 8, 3, padding=1),
        nn.BatchNorm2d(8) if bn else nn.Identity(),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(8, 4, 3),
        nn.Flatten(),
        nn.Linear(4 * 6 * 6, 5),
    )


class TwoInputs(nn.Module):
    """(a, {"b": b}) -> (Linear(a) * scale + b, Pair(...)): several inputs, nested outputs."""

    def __init__(self) -> None:
        super().__init__()
        self.lin = nn.Linear(4, 3)

    def forward(self, a: Tensor, extra: dict[str, Tensor], scale: float = 1.0) -> Any:
        y = self.lin(a) * scale + extra["b"]
        return {"sum": y, "pair": Pair(features=[y, a], norm=a.norm(dim=-1))}


def folded_inputs(layer: TimeDistributed) -> list[Tensor]:
    """Record what the wrapped module receives (its first positional input)."""
    seen: list[Tensor] = []
    layer.module.register_forward_pre_hook(lambda m, args: seen.append(args[0]))
    return seen


# -- the examples from Keras and the usual tutorials ---------------------------------------------


def test_conv2d_on_video_clip() -> None:
    layer = TimeDistributed(nn.Conv2d(3, 16, 3))
    x = torch.randn(5, 3, 3, 256, 256)
    y = layer(x)
    assert y.shape == (5, 3, 16, 254, 254)
    torch.testing.assert_close(y, per_step(layer.module, x))


def test_linear_parameter_count_is_keras() -> None:
    layer = TimeDistributed(nn.Linear(8, 10))
    assert sum(p.numel() for p in layer.parameters()) == 90
    y = check_layer(layer, torch.randn(4, 12, 8))
    assert y.shape == (4, 12, 10)


def test_conv2d_same_padding_parameter_count() -> None:
    layer = TimeDistributed(nn.Conv2d(3, 32, 3, padding=1))
    assert sum(p.numel() for p in layer.parameters()) == 896
    y = check_layer(layer, torch.randn(2, 12, 3, 32, 32))
    assert y.shape == (2, 12, 32, 32, 32)


def test_sequential_cnn_train_mode_folds_batch_norm_statistics_over_b_times_t() -> None:
    layer = TimeDistributed(small_cnn())
    x = torch.randn(2, 4, 3, 16, 16)
    reference = copy.deepcopy(layer.module)
    y = check_layer(layer, x)
    assert y.shape == (2, 4, 5)
    with torch.no_grad():
        expected = reference(x.flatten(0, 1)).unflatten(0, (2, 4))
        torch.testing.assert_close(layer(x), expected)


def test_sequential_cnn_eval_mode_equals_per_step_loop() -> None:
    layer = TimeDistributed(small_cnn()).eval()
    x = torch.randn(3, 5, 3, 16, 16)
    with torch.no_grad():
        torch.testing.assert_close(layer(x), per_step(layer.module, x))


def test_parameters_are_shared_across_steps_and_independent_of_t() -> None:
    layer = TimeDistributed(nn.Linear(8, 10))
    for steps in (1, 7, 50):
        x = torch.randn(2, steps, 8)
        layer(x).sum().backward()
        # one weight for all steps: its gradient is the sum of the per-step gradients
        per_step_grad = sum(torch.ones(2, 10).t() @ x[:, t] for t in range(steps))
        torch.testing.assert_close(layer.module.weight.grad, per_step_grad)
        layer.zero_grad()
        assert sum(p.numel() for p in layer.parameters()) == 90
    assert list(layer.state_dict()) == ["module.weight", "module.bias"]
    linear = nn.Linear(8, 10)
    layer.module.load_state_dict(linear.state_dict())
    x = torch.randn(2, 7, 8)
    torch.testing.assert_close(layer(x), linear(x))


def test_sequential_of_time_distributed_layers() -> None:
    model = nn.Sequential(
        TimeDistributed(nn.Conv2d(3, 4, 3, padding=1)),
        TimeDistributed(nn.ReLU()),
        TimeDistributed(nn.Flatten()),
        TimeDistributed(nn.Linear(4 * 8 * 8, 6)),
    )
    x = torch.randn(2, 3, 3, 8, 8)
    y = check_layer(model, x)
    plain = nn.Sequential(*(m.module for m in model))
    expected = torch.stack([plain(x[:, t]) for t in range(3)], 1)
    torch.testing.assert_close(y, expected)


# -- several inputs, nested outputs, kwargs ----------------------------------------------------


@pytest.mark.parametrize("mode", ["merge", "loop"])
def test_nested_inputs_outputs_and_kwargs(mode: str) -> None:
    layer = TimeDistributed(TwoInputs(), mode=mode)
    a, b = torch.randn(2, 5, 4), torch.randn(2, 5, 3)
    out = layer(a, {"b": b}, scale=2.0)
    assert isinstance(out["pair"], Pair) and isinstance(out["pair"].features, list)
    assert out["sum"].shape == (2, 5, 3) and out["pair"].norm.shape == (2, 5)
    assert_trees_close(out, per_step(layer.module, a, {"b": b}, scale=2.0))
    check_layer(layer, a, {"b": b})


def test_tuple_output_module_in_loop_and_chunked_modes() -> None:
    class Split(nn.Module):
        def forward(self, x: Tensor) -> tuple[Tensor, Tensor]:
            return x.relu(), x.sum(-1)

    x = torch.randn(3, 4, 6)
    expected = per_step(Split(), x)
    for kw in ({"mode": "loop"}, {"chunk_size": 5}, {"chunk_size": 5, "checkpoint": True}):
        assert_trees_close(TimeDistributed(Split(), **kw)(x), expected)


# -- zero-copy folding -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "make",
    [
        pytest.param(lambda: torch.randn(2, 5, 3, 8, 8), id="contiguous"),
        pytest.param(lambda: torch.randn(2, 5, 8, 8, 3).permute(0, 1, 4, 2, 3), id="channels-last"),
        pytest.param(
            lambda: torch.randn(10, 3, 8, 8)
            .contiguous(memory_format=torch.channels_last)
            .unflatten(0, (2, 5)),
            id="channels_last-frames",
        ),
        pytest.param(lambda: torch.randn(5, 2, 3, 8, 8).transpose(0, 1), id="time-major-permuted"),
    ],
)
def test_folding_is_a_view_of_the_input(make: Any) -> None:
    x = make()
    layer = TimeDistributed(nn.Conv2d(3, 4, 3))
    seen = folded_inputs(layer)
    y = layer(x)
    assert seen[0].shape == (10, 3, 8, 8)
    assert seen[0].data_ptr() == x.data_ptr(), "the folded input was copied"
    assert seen[0].untyped_storage().data_ptr() == x.untyped_storage().data_ptr()
    torch.testing.assert_close(y, per_step(layer.module, x))


def test_unviewable_input_is_copied_and_still_correct() -> None:
    x = torch.randn(2, 6, 4)[:, :5]  # T sliced: (B, T) cannot merge in either order
    layer = TimeDistributed(nn.Linear(4, 3))
    torch.testing.assert_close(layer(x), per_step(layer.module, x))


def test_time_major_batch_first_false() -> None:
    layer = TimeDistributed(nn.Conv1d(4, 6, 3, padding=1), batch_first=False)
    x = torch.randn(7, 2, 4, 10)  # (T, B, C, L)
    y = check_layer(layer, x)
    assert y.shape == (7, 2, 6, 10)
    torch.testing.assert_close(y, per_step(layer.module, x, batch_first=False))


# -- masks and lengths -------------------------------------------------------------------------


def test_lengths_run_only_valid_steps_and_zero_the_rest() -> None:
    layer = TimeDistributed(nn.Linear(4, 3))
    seen = folded_inputs(layer)
    x = torch.randn(3, 5, 4, requires_grad=True)
    lengths = torch.tensor([5, 2, 0])
    y = layer(x, lengths=lengths)
    assert seen[0].shape == (7, 4)  # 5 + 2 + 0 valid steps reached the module
    valid = torch.arange(5) < lengths[:, None]
    expected = per_step(layer.module, x) * valid[..., None]
    torch.testing.assert_close(y, expected)
    assert (y[~valid] == 0).all()
    y.sum().backward()
    assert (x.grad[~valid] == 0).all() and (x.grad[valid] != 0).all()


def test_mask_and_lengths_agree_and_batch_norm_sees_only_valid_steps() -> None:
    x = torch.randn(4, 6, 5)
    lengths = torch.tensor([6, 1, 3, 4])
    mask = torch.arange(6) < lengths[:, None]
    by_mask = TimeDistributed(nn.BatchNorm1d(5))
    by_lengths = copy.deepcopy(by_mask)
    reference = copy.deepcopy(by_mask.module)
    y = by_mask(x, mask=mask)
    torch.testing.assert_close(by_lengths(x, lengths=lengths), y)
    expected_valid = reference(x[mask])  # BatchNorm on the valid steps alone
    torch.testing.assert_close(y[mask], expected_valid)
    torch.testing.assert_close(by_mask.module.running_mean, reference.running_mean)
    torch.testing.assert_close(by_mask.module.running_var, reference.running_var)


def test_non_prefix_mask_and_time_major_mask() -> None:
    layer = TimeDistributed(nn.Linear(4, 2), batch_first=False)
    x = torch.randn(5, 3, 4)  # (T, B, F)
    mask = torch.rand(3, 5) > 0.5  # (B, T) with holes
    y = layer(x, mask=mask)
    expected = per_step(layer.module, x, batch_first=False) * mask.t()[..., None]
    torch.testing.assert_close(y, expected)


def test_loop_mode_keeps_per_step_batch_norm_statistics_like_keras() -> None:
    layer = TimeDistributed(nn.BatchNorm1d(3), mode="loop")
    reference = copy.deepcopy(layer.module)
    x = torch.randn(4, 5, 3)
    y = layer(x)
    expected = torch.stack([reference(x[:, t]) for t in range(5)], 1)
    torch.testing.assert_close(y, expected)
    torch.testing.assert_close(layer.module.running_mean, reference.running_mean)
    assert int(layer.module.num_batches_tracked) == 5


def test_loop_mode_with_mask_skips_empty_steps() -> None:
    layer = TimeDistributed(nn.BatchNorm1d(3), mode="loop")
    x = torch.randn(3, 4, 3)
    lengths = torch.tensor([2, 2, 1])  # steps 2 and 3 have no valid item
    y = layer(x, lengths=lengths)
    assert int(layer.module.num_batches_tracked) == 2
    assert (y[:, 2:] == 0).all() and y.shape == (3, 4, 3)


# -- chunking and checkpointing ----------------------------------------------------------------


def test_chunk_size_bounds_every_call_and_keeps_the_result() -> None:
    layer = TimeDistributed(small_cnn(bn=False), chunk_size=4)
    seen = folded_inputs(layer)
    x = torch.randn(2, 5, 3, 16, 16)
    y = layer(x)
    assert [s.shape[0] for s in seen] == [4, 4, 2]
    torch.testing.assert_close(y, per_step(layer.module, x))


def test_checkpoint_recomputes_in_backward_with_equal_gradients() -> None:
    x = torch.randn(2, 5, 3, 16, 16)
    plain = TimeDistributed(small_cnn(bn=False))
    ckpt = TimeDistributed(copy.deepcopy(plain.module), chunk_size=3, checkpoint=True)
    calls = folded_inputs(ckpt)
    xs = [x.clone().requires_grad_(), x.clone().requires_grad_()]
    for layer, xi in zip((plain, ckpt), xs, strict=True):
        layer(xi).pow(2).sum().backward()
    assert len(calls) == 2 * 4  # four chunks, each run forward and again in backward
    torch.testing.assert_close(xs[1].grad, xs[0].grad)
    for p, q in zip(plain.parameters(), ckpt.parameters(), strict=True):
        torch.testing.assert_close(q.grad, p.grad)


# -- empty batches and sequences ---------------------------------------------------------------


@pytest.mark.parametrize("mode", ["merge", "loop"])
@pytest.mark.parametrize("shape", [(0, 4, 3, 16, 16), (2, 0, 3, 16, 16)])
def test_empty_batch_or_time_gives_empty_output(mode: str, shape: tuple[int, ...]) -> None:
    layer = TimeDistributed(small_cnn(), mode=mode)
    before = copy.deepcopy(layer.state_dict())
    y = layer(torch.randn(shape))
    assert y.shape == (*shape[:2], 5)
    assert_trees_close(layer.state_dict(), before)  # BatchNorm statistics untouched


def test_all_steps_masked_gives_zeros_without_running_the_module_on_data() -> None:
    layer = TimeDistributed(nn.Linear(4, 3))
    seen = folded_inputs(layer)
    y = layer(torch.randn(2, 3, 4), lengths=torch.tensor([0, 0]))
    assert y.shape == (2, 3, 3) and (y == 0).all()
    assert all(s.device.type == "meta" for s in seen)  # shapes only, on the meta device


# -- compile, export, serialization ------------------------------------------------------------


def test_compile_fullgraph_with_dynamic_batch_and_time() -> None:
    graphs: list[torch.fx.GraphModule] = []

    def backend(gm: torch.fx.GraphModule, example_inputs: list[Any]) -> Any:
        graphs.append(gm)
        from functorch.compile import make_boxed_func
        from torch._dynamo.backends.common import aot_autograd

        return aot_autograd(fw_compiler=lambda g, _: make_boxed_func(g))(gm, example_inputs)

    torch._dynamo.reset()
    layer = TimeDistributed(nn.Conv2d(3, 4, 3, padding=1))
    compiled = torch.compile(layer, fullgraph=True, backend=backend)
    # B*T stays >= 16: torch's own conv2d guards on that size (a kernel choice), not timedist.
    for shape in [(4, 5, 3, 8, 8), (3, 7, 3, 8, 8), (6, 9, 3, 8, 8)]:
        x = torch.randn(shape, requires_grad=True)
        torch._dynamo.mark_dynamic(x, 0)
        torch._dynamo.mark_dynamic(x, 1)
        y = compiled(x)
        torch.testing.assert_close(y, layer(x))
        y.sum().backward()
    assert len(graphs) == 1, "B or T changes caused a recompilation"


def test_compile_with_inductor_and_dynamic_batch_and_time() -> None:
    # Inductor (torch's default backend) with B and T dynamic. With *every* dim dynamic
    # (dynamic=True) torch 2.13's inductor fails on conv2d even for a hand-written fold
    # ("cannot determine truth value of Relational"), so the spatial dims stay static here.
    torch._dynamo.reset()
    layer = TimeDistributed(nn.Conv2d(3, 4, 3, padding=1))
    compiled = torch.compile(layer, fullgraph=True)
    for shape in [(4, 5, 3, 8, 8), (3, 7, 3, 8, 8)]:
        x = torch.randn(shape)
        torch._dynamo.mark_dynamic(x, 0)
        torch._dynamo.mark_dynamic(x, 1)
        torch.testing.assert_close(compiled(x), layer(x), atol=1e-5, rtol=1e-4)
    linear = TimeDistributed(nn.Linear(8, 4))
    compiled_linear = torch.compile(linear, fullgraph=True, dynamic=True)
    for shape in [(2, 3, 8), (5, 4, 8)]:
        x = torch.randn(shape)
        torch.testing.assert_close(compiled_linear(x), linear(x))


def test_export_with_dynamic_batch_and_time() -> None:
    from torch.export import Dim, export

    layer = TimeDistributed(nn.Conv2d(3, 4, 3, padding=1)).eval()
    x = torch.randn(2, 3, 3, 8, 8)
    static = Dim.STATIC
    shapes = {"inputs": ((Dim("B"), Dim("T"), static, static, static),)}
    program = export(layer, (x,), dynamic_shapes=shapes)
    for shape in [(4, 5, 3, 8, 8), (3, 9, 3, 8, 8)]:
        x2 = torch.randn(shape)
        torch.testing.assert_close(program.module()(x2), layer(x2))


def test_pickle_and_repr_show_only_non_default_arguments() -> None:
    layer = TimeDistributed(nn.Linear(2, 3), mode="loop", chunk_size=8)
    clone = pickle.loads(pickle.dumps(layer))
    assert clone.mode == "loop" and clone.chunk_size == 8
    assert "mode='loop', chunk_size=8" in repr(layer)
    assert "batch_first" not in repr(layer) and "checkpoint" not in repr(layer)


def test_compute_output_shape_does_not_touch_state() -> None:
    layer = TimeDistributed(small_cnn())
    before = copy.deepcopy(layer.state_dict())
    assert layer.compute_output_shape((7, 11, 3, 16, 16)) == torch.Size([7, 11, 5])
    assert_trees_close(layer.state_dict(), before)


class Block(nn.Module):
    """A ResNet basic block: what a user's pretrained frame encoder is made of."""

    def __init__(self, c: int) -> None:
        super().__init__()
        self.conv1, self.bn1 = nn.Conv2d(c, c, 3, padding=1, bias=False), nn.BatchNorm2d(c)
        self.conv2, self.bn2 = nn.Conv2d(c, c, 3, padding=1, bias=False), nn.BatchNorm2d(c)

    def forward(self, x: Tensor) -> Tensor:
        y = self.bn2(self.conv2(self.bn1(self.conv1(x)).relu()))
        return (x + y).relu()


def test_wraps_any_user_module_resnet_style() -> None:
    resnet = nn.Sequential(
        nn.Conv2d(3, 8, 7, stride=2, padding=3), nn.BatchNorm2d(8), nn.ReLU(),
        nn.MaxPool2d(3, 2, 1), Block(8), Block(8),
        nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(8, 10),
    )
    layer = TimeDistributed(resnet).eval()
    x = torch.randn(2, 3, 3, 32, 32)
    y = check_layer(layer, x)
    with torch.no_grad():
        torch.testing.assert_close(layer(x), per_step(resnet, x))
    assert y.shape == (2, 3, 10)


# -- Keras 3 with copied weights ---------------------------------------------------------------


def test_matches_keras_time_distributed_dense_and_conv2d() -> None:
    keras = pytest.importorskip("keras")
    if keras.backend.backend() != "torch":
        pytest.skip("Keras runs on another backend")
    x = torch.randn(2, 4, 6)
    dense = keras.layers.TimeDistributed(keras.layers.Dense(5))
    expected = torch.as_tensor(keras.ops.convert_to_numpy(dense(x.numpy())))
    kernel, bias = (torch.as_tensor(keras.ops.convert_to_numpy(w)) for w in dense.layer.weights)
    ours = TimeDistributed(nn.Linear(6, 5))
    with torch.no_grad():
        ours.module.weight.copy_(kernel.t())
        ours.module.bias.copy_(bias)
        torch.testing.assert_close(ours(x), expected, atol=1e-5, rtol=1e-5)

    video = torch.randn(2, 3, 3, 10, 10)
    conv = keras.layers.TimeDistributed(keras.layers.Conv2D(4, 3, data_format="channels_first"))
    expected = torch.as_tensor(keras.ops.convert_to_numpy(conv(video.numpy())))
    kernel, bias = (torch.as_tensor(keras.ops.convert_to_numpy(w)) for w in conv.layer.weights)
    ours_conv = TimeDistributed(nn.Conv2d(3, 4, 3))
    with torch.no_grad():
        ours_conv.module.weight.copy_(kernel.permute(3, 2, 0, 1))  # (kh, kw, in, out) -> torch
        ours_conv.module.bias.copy_(bias)
        torch.testing.assert_close(ours_conv(video), expected, atol=1e-5, rtol=1e-5)
