"""Random convolution features, the closed-form ridge and RocketModel, each checked against an
independent computation: per-step loops written from the papers' definitions, scikit-learn's
RidgeCV, and every sample computed alone."""

from __future__ import annotations

import itertools
import math
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.distributed as dist
from sklearn.linear_model import RidgeCV
from torch import Tensor

from timedist.models import (
    FCN,
    HydraFeatures,
    InceptionTime,
    MultiRocketFeatures,
    ResNet,
    RocketModel,
    kernels,
)
from timedist.models import rocket as rocket_module
from timedist.models.random_conv import POOLINGS, dilation_schedule, minirocket_kernels
from timedist.models.ridge import ALPHAS, RidgeStats, fit_temperature, ridge_cv


def response_loop(series: Tensor, kernel: Tensor, dilation: int) -> list[float]:
    """sum_j kernel[j] * x[t + (j - 4) * dilation], zero outside the series, per step t."""
    steps = len(series)
    out = []
    for t in range(steps):
        total = 0.0
        for j in range(9):
            s = t + (j - 4) * dilation
            if 0 <= s < steps:
                total += float(kernel[j]) * float(series[s])
        out.append(total)
    return out


def poolings_loop(values: list[float], bias: float) -> dict[str, float]:
    """MultiRocket's four poolings of values - bias, by their definitions."""
    above = [v - bias for v in values]
    positive = [a > 0 for a in above]
    hits = sum(positive)
    longest = run = 0
    for p in positive:
        run = run + 1 if p else 0
        longest = max(longest, run)
    return {"ppv": hits / len(values),
            "mpv": sum(a for a, p in zip(above, positive, strict=True) if p) / max(hits, 1),
            "mipv": (sum(i for i, p in enumerate(positive) if p) / hits / len(values)
                     if hits else -1.0),
            "lspv": longest / len(values)}


def test_minirocket_kernels_and_schedule() -> None:
    kernels = minirocket_kernels()
    assert kernels.shape == (84, 9) and bool((kernels.sum(1) == 0).all())
    assert {tuple(k.eq(2).nonzero().flatten().tolist()) for k in kernels} == set(
        itertools.combinations(range(9), 3))
    for length in (9, 24, 150, 1500):
        dilations, counts = dilation_schedule(length, 119)
        assert sum(counts) == 119 and dilations[0] == 1
        assert (dilations[-1] - 1) * 8 <= length - 1  # the span stays within the series


@pytest.mark.parametrize(("channels", "poolings", "difference"), [
    (3, POOLINGS, False), (3, POOLINGS, True), (3, ("ppv",), False), (1, ("ppv",), False)],
    ids=["multirocket", "multirocket-difference", "minirocket", "minirocket-univariate"])
def test_multirocket_features_equal_the_definitions(channels: int, poolings: tuple[str, ...],
                                                    difference: bool) -> None:
    torch.manual_seed(0)
    steps = 40
    layer = MultiRocketFeatures(channels, steps, num_features=336, difference=difference,
                                poolings=poolings, seed=3).fit(torch.randn(12, steps, channels))
    x, lengths = torch.randn(2, steps, channels), torch.tensor([40, 23])
    features = layer(x, lengths)
    reps = 2 if difference else 1
    per_pooling = 84 * sum(layer.counts[0])
    assert features.shape == (2, 84 * len(poolings) * sum(sum(c) for c in layer.counts))
    rng = np.random.default_rng(0)
    for _ in range(25):  # random (sample, representation, dilation, kernel, bias) entries
        b, r = int(rng.integers(2)), int(rng.integers(reps))
        i = int(rng.integers(len(layer.dilations[r])))
        k, q = int(rng.integers(84)), int(rng.integers(layer.counts[r][i]))
        d = layer.dilations[r][i]
        series = x[b, : int(lengths[b])]
        if r == 1:
            series = series.diff(dim=0)
        chosen = getattr(layer, f"channels{r}")[i, k]  # (C,) the channels kernel k sums
        weight = chosen[:, None] * layer.kernels[k, 0]  # (C, 9)
        per_channel = [response_loop(series[:, c], weight[c], d) for c in range(channels)]
        values = [sum(col) for col in zip(*per_channel, strict=True)]
        if (k + i) % 2 == 1 and len(values) > 8 * d:  # MiniRocket's unpadded alternation
            values = values[4 * d : len(values) - 4 * d]
        start = 84 * sum(layer.counts[r][:i]) + k * layer.counts[r][i] + q
        bias = float(getattr(layer, f"bias{r}")[start])
        expected = poolings_loop(values, bias)
        offset = r * 4 * per_pooling if r else 0
        position = 84 * sum(layer.counts[r][:i]) + k * layer.counts[r][i] + q
        for p, name in enumerate(poolings):
            got = float(features[b, offset + p * (per_pooling if r == 0 else
                                                  84 * sum(layer.counts[1])) + position])
            assert got == pytest.approx(expected[name], abs=1e-5), (name, b, r, i, k, q)


def test_minirocket_biases_are_quantiles_of_training_responses() -> None:
    torch.manual_seed(1)
    train = torch.randn(5, 30, 1)
    layer = MultiRocketFeatures(1, 30, num_features=168, poolings=("ppv",), difference=False,
                                seed=0).fit(train)
    responses = {tuple(response_loop(train[n, :, 0], layer.kernels[k, 0], d))
                 for n in range(5) for i, d in enumerate(layer.dilations[0]) for k in range(84)}
    lows = [min(r) for r in responses]
    highs = [max(r) for r in responses]
    assert float(layer.bias0.min()) >= min(lows) - 1e-5
    assert float(layer.bias0.max()) <= max(highs) + 1e-5
    assert layer.bias0.unique().numel() > len(layer.bias0) // 2  # distinct thresholds


@pytest.mark.parametrize("values", ["integers", "normal"])
def test_hydra_counts_traced_form_equals_the_fused_form_bit_for_bit(values: str) -> None:
    """Hydra's counts written for eager runs and traces (kernels as one dimension: a small
    graph to export) equal the loop the compiler fuses, both run eagerly: the same products
    added in the same order, the same first of equals (integers make many ties)."""
    torch.manual_seed(5)
    for batch, rows, steps, groups, per_group in ((3, 2, 40, 4, 8), (1, 1, 9, 2, 3)):
        if values == "integers":
            taps = torch.randint(-2, 3, (batch, rows, 9, steps)).double()
            weight = torch.randint(-1, 2, (groups, per_group, 9)).double()
        else:
            taps, weight = torch.randn(batch, rows, 9, steps), torch.randn(groups, per_group, 9)
        chosen = torch.randint(0, rows, (groups,))
        lengths = torch.randint(1, steps + 1, (batch,))
        valid = (torch.arange(steps) < lengths[:, None]).to(taps.dtype)
        loop = kernels._hydra_counts(taps, chosen, weight, valid)
        traced = kernels._hydra_counts_eager(taps, chosen, weight, valid)
        for a, b in zip(loop, traced, strict=True):
            assert a.shape == (batch, groups, per_group) and torch.equal(a, b)


def test_hydra_counts_equal_the_definitions() -> None:
    torch.manual_seed(2)
    layer = HydraFeatures(2, 30, groups=4, kernels=3, seed=1)
    x, lengths = torch.randn(2, 30, 2), torch.tensor([30, 17])
    features = layer(x, lengths)
    assert features.shape == (2, layer.out_features)
    expected = []
    for b in range(2):
        row = []
        series = x[b, : int(lengths[b])]
        for i, d in enumerate(layer.dilations):
            for r, s in enumerate((series, series.diff(dim=0))):
                for g in range(2):  # groups / 2 per representation
                    kernels = range(g * 3, g * 3 + 3)
                    chosen = layer.channels[i, r, g]  # (C,) the channels group g sums
                    responses = [[sum(response_loop(s[:, c], chosen[c] * layer.weight[i, r, k, 0],
                                                    d)[t] for c in range(2))
                                  for t in range(len(s))] for k in kernels]
                    wins, losses = [0.0] * 3, [0.0] * 3
                    for t in range(len(s)):
                        column = [responses[j][t] for j in range(3)]
                        wins[column.index(max(column))] += max(column)
                        losses[column.index(min(column))] += 1
                    row.append(([w / len(s) for w in wins], [c / len(s) for c in losses]))
        expected.append(row)
    # the layout: per dilation, per representation: wins of every group, then losses
    flat = []
    for b in range(2):
        values = []
        for dr in range(len(layer.dilations) * 2):
            groups = expected[b][dr * 2 : dr * 2 + 2]
            values += [w for g in groups for w in g[0]] + [c for g in groups for c in g[1]]
        flat.append([math.sqrt(max(v, 0.0)) for v in values])
    torch.testing.assert_close(features, torch.tensor(flat), atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("module", [
    lambda: MultiRocketFeatures(2, 50, num_features=168).fit(torch.randn(6, 50, 2)),
    lambda: HydraFeatures(2, 50, groups=8),
    lambda: RocketModel(2, 50, 3, members=2, num_features=168).fit(
        torch.randn(12, 50, 2), torch.arange(12) % 3),
    lambda: FCN(2, 3, width=8).eval(),
    lambda: ResNet(2, 3, width=4).eval(),
    lambda: InceptionTime(2, 3, filters=4, depth=3).eval(),
], ids=["multirocket", "hydra", "rocket", "fcn", "resnet", "inception"])
def test_a_padded_batch_gives_each_series_its_own_result(module) -> None:
    torch.manual_seed(3)
    layer = module()
    x, lengths = torch.randn(3, 50, 2), torch.tensor([50, 21, 9])
    x[1, 21:], x[2, 9:] = 1e3, float("nan")  # padding must not be read
    with torch.no_grad():
        batch = layer(x, lengths=lengths)
        alone = torch.cat([layer(x[b : b + 1, : int(n)]) for b, n in enumerate(lengths.tolist())])
    torch.testing.assert_close(batch, alone, atol=1e-5, rtol=1e-5)


def _families(channels: int, steps: int) -> dict[str, torch.nn.Module]:
    train = torch.randn(8, steps, channels)
    return {"minirocket": MultiRocketFeatures(channels, steps, num_features=840,
                                              poolings=("ppv",), difference=False).fit(train),
            "hydra": HydraFeatures(channels, steps, groups=8)}


@pytest.mark.parametrize("channels", [1, 4])
def test_compiled_features_equal_eager_ones_exactly(channels: int,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """The fused (compiled) counts against the same expressions run eagerly, for a padded batch
    and for a batch of one (which the compiled path runs as two copies): MiniRocket's bit for
    bit (counts of exact responses), Hydra's to float rounding (its wins are sums over steps,
    which a vectorized loop adds in another order)."""
    torch.manual_seed(4)
    x, lengths = torch.randn(5, 70, channels), torch.tensor([70, 64, 33, 12, 70])
    for name, layer in _families(channels, 70).items():
        with torch.no_grad():
            compiled = [layer(x, lengths), layer(x[3:4, :12])]
            monkeypatch.setenv("TIMEDIST_COMPILE", "0")
            assert not kernels.compiled()
            eager = [layer(x, lengths), layer(x[3:4, :12])]
            monkeypatch.delenv("TIMEDIST_COMPILE")
        for got, expected in zip(compiled, eager, strict=True):
            if name == "minirocket":
                assert torch.equal(got, expected)
            else:
                torch.testing.assert_close(got, expected, rtol=1e-6, atol=1e-6)


def test_a_failed_compilation_warns_once_and_runs_eagerly(monkeypatch: pytest.MonkeyPatch
                                                          ) -> None:
    """A compiler fault (no C++ compiler, an inductor bug) costs speed, never a result; an
    error of the call itself still reaches the caller."""
    def broken(fn, **_):
        def run(*args):
            raise RuntimeError("no C++ compiler")
        return run

    wrapper = kernels.fused(lambda a, b: a + b)
    monkeypatch.setattr(torch, "compile", broken)
    a = torch.randn(3, 4)
    with pytest.warns(RuntimeWarning, match="compiling <lambda> failed .*no C\\+\\+ compiler"):
        assert torch.equal(wrapper(a, a), a + a)
    assert not wrapper.active
    assert torch.equal(wrapper(a, a), a + a)  # no second attempt, no second warning
    failing = kernels.fused(lambda a, b: a + b)
    with pytest.raises(RuntimeError, match="size of tensor"):
        failing(a, torch.randn(3, 5))


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
@pytest.mark.parametrize("channels", [1, 4])
def test_features_on_cuda_equal_those_on_the_cpu(channels: int) -> None:
    torch.manual_seed(5)
    x, lengths = torch.randn(6, 90, channels), torch.tensor([90, 80, 45, 90, 13, 60])
    for name, layer in _families(channels, 90).items():
        with torch.no_grad():
            cpu = layer(x, lengths)
            gpu = layer.cuda()(x.cuda(), lengths.cuda()).cpu()
        # MiniRocket's responses are exact additions: a count flips only where a response
        # ties a bias to the last bit; Hydra's wins are float sums (order may differ).
        assert float((cpu - gpu).abs().gt(1e-4).float().mean()) < 1e-3, name


@pytest.mark.parametrize(("samples", "features"), [(20, 60), (60, 8)], ids=["dual", "primal"])
def test_ridge_cv_matches_scikit_learn(samples: int, features: int) -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(samples, features))
    y = x[:, :3] @ rng.normal(size=(3, 2)) + rng.normal(scale=0.5, size=(samples, 2)) + 4.0
    alphas = (0.01, 0.1, 1.0, 10.0, 100.0)
    ours = ridge_cv(torch.tensor(x), torch.tensor(y), alphas)
    reference = RidgeCV(alphas=alphas, fit_intercept=True, store_cv_results=True).fit(x, y)
    assert ours.alpha == reference.alpha_
    np.testing.assert_allclose(ours.weight.numpy(), reference.coef_.T, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(ours.bias.numpy(), reference.intercept_, rtol=1e-6)
    # scikit-learn stores the leave-one-out errors (y - loo prediction) ** 2 per alpha
    errors = reference.cv_results_[:, :, alphas.index(ours.alpha)]
    np.testing.assert_allclose((y - ours.loo.numpy()) ** 2, errors, rtol=1e-5, atol=1e-9)


def test_leave_one_out_is_a_refit_without_the_sample() -> None:
    torch.manual_seed(4)
    x, y = torch.randn(15, 6, dtype=torch.float64), torch.randn(15, 1, dtype=torch.float64)
    fit = ridge_cv(x, y, (3.0,))
    for i in (0, 7, 14):
        keep = torch.arange(15) != i
        refit = ridge_cv(x[keep], y[keep], (3.0,))
        torch.testing.assert_close(x[i] @ refit.weight + refit.bias, fit.loo[i])


def test_ridge_statistics_of_shards_add_up_to_one_pass() -> None:
    torch.manual_seed(7)
    x = torch.randn(300, 5) * 3 + 50  # far from zero: the shift keeps the centring exact
    y = x[:, :2] @ torch.randn(2, 3) + torch.randn(300, 3)
    keep = torch.tensor([3, 150, 151, 299])
    whole = RidgeStats(x[:50].mean(0), 3, keep)
    whole.add(x, y, 0)
    shards = [RidgeStats(x[:50].mean(0), 3, keep) for _ in range(2)]
    for shard, start in zip(shards, (0, 120), strict=True):  # uneven shards, batches of 60
        for first in range(start, start + (120 if start == 0 else 180), 60):
            shard.add(x[first:first + 60], y[first:first + 60], first)
    for total, other in zip(shards[0].tensors(), shards[1].tensors(), strict=True):
        total += other
    shards[0].n += shards[1].n
    for a, b in zip(shards[0].tensors(), whole.tensors(), strict=True):
        torch.testing.assert_close(a, b)
    reference = ridge_cv(x.double(), y.double())
    fit = shards[0].solve()
    assert fit.alpha in ALPHAS
    refit = ridge_cv(x.double(), y.double(), (fit.alpha,))
    torch.testing.assert_close(fit.weight, refit.weight)
    torch.testing.assert_close(fit.loo, refit.loo[keep])
    assert reference.loo.shape == (300, 3)
    torch.testing.assert_close(whole.std, x.double().std(0, unbiased=False))


def test_a_streamed_fit_equals_the_fit_on_the_whole_feature_matrix(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """More samples than features: features stream in batches through RidgeStats and only a
    random subset's leave-one-out scores choose the penalty; the head must still be the ridge
    fit on every sample's standardized features (computed here whole, as a reference)."""
    monkeypatch.setattr(rocket_module, "KEEP", 150)
    monkeypatch.setattr(rocket_module, "FEATURE_BATCH", 40 * 600)  # ~40 rows per batch
    torch.manual_seed(8)
    x, y = torch.randn(800, 60, 2), torch.randint(0, 3, (800,))
    x[y == 1, :30] += 1.0
    lengths = torch.randint(30, 61, (800,))
    model = RocketModel(2, 60, 3, members=1, num_features=168, seed=2)
    calls: list[tuple[int, int]] = []
    model.fit(x, y, lengths, progress=lambda done, total: calls.append((done, total)))
    member = model.members[0]
    features = member.raw(x, lengths)
    assert features.shape[1] < 800 and len(calls) > 5 and calls[-1] == (800, 800)
    rows = model.report["rows"]
    assert len(rows) == 150 and rows.unique().numel() == 150
    torch.testing.assert_close(member.mean, features.mean(0))
    std = features.std(0, unbiased=False)
    # each family the same total weight: family size x its features' weight^2 is one value
    weight = torch.cat([torch.full((n,), (sum(member.sizes) / 2 / n) ** 0.5)
                        for n in member.sizes])
    torch.testing.assert_close(member.scale * std, torch.where(std > 1e-6, weight, 0.0),
                               rtol=1e-4, atol=1e-6)
    targets = torch.full((800, 3), -1.0)
    targets[torch.arange(800), y] = 1.0
    z = ((features - member.mean) * member.scale).double()
    alpha = model.report["alphas"][0]
    reference = ridge_cv(z, targets.double(), (alpha,))
    torch.testing.assert_close(member.head.weight.double(), reference.weight.T,
                               rtol=1e-4, atol=1e-5)
    torch.testing.assert_close(model.report["loo"].exp(),
                               (reference.loo[rows] * member.temperature).softmax(-1).float(),
                               rtol=1e-4, atol=1e-5)
    errors = {a: float((ridge_cv(z, targets.double(), (a,)).loo[rows] - targets[rows]).pow(2)
                       .mean()) for a in ALPHAS}
    assert errors[alpha] <= min(errors.values()) + 1e-9


def _fit_in_a_group(rank: int, world: int, init: str, data: tuple[Tensor, ...],
                    folder: Path) -> None:
    """One process of a gloo group: fit on all the data (each transforms its share)."""
    dist.init_process_group("gloo", init_method=init, rank=rank, world_size=world)
    try:
        x, y, lengths = data
        model = RocketModel(2, 50, 3, members=2, num_features=168, seed=5).fit(x, y, lengths)
        torch.save({"state": model.state_dict(), "report": model.report}, folder / f"{rank}.pt")
    finally:
        dist.destroy_process_group()


def test_a_fit_in_two_processes_equals_the_fit_in_one(tmp_path: Path) -> None:
    torch.manual_seed(9)
    x, y = torch.randn(701, 50, 2), torch.randint(0, 3, (701,))
    x[y == 2, 10:20] -= 1.0
    lengths = torch.randint(25, 51, (701,))
    torch.multiprocessing.spawn(_fit_in_a_group, nprocs=2, args=(
        2, f"file://{tmp_path / 'group'}", (x, y, lengths), tmp_path))
    one = RocketModel(2, 50, 3, members=2, num_features=168, seed=5).fit(x, y, lengths)
    assert len(one.members[0].mean) < 701  # more samples than features: the streamed path
    found = [torch.load(tmp_path / f"{rank}.pt") for rank in (0, 1)]
    for name, value in one.state_dict().items():
        assert torch.equal(found[0]["state"][name], found[1]["state"][name]), name
        torch.testing.assert_close(found[0]["state"][name], value, rtol=1e-4, atol=1e-5)
    assert found[0]["report"]["alphas"] == one.report["alphas"]
    torch.testing.assert_close(found[0]["report"]["loo"], one.report["loo"], rtol=1e-4,
                               atol=1e-5)


def test_timedist_fit_on_two_processes_is_the_fit_on_one(tmp_path: Path) -> None:
    """`timedist fit --devices 2` with rocket: a spawned second process transforms half of
    the series, the statistics are summed; the run holds the one-process model."""
    from test_trust import signals, write_ts

    from timedist.cli import main

    x, y = signals(n=240, t=60, seed=5)
    data = write_ts(tmp_path / "t.ts", x, y)
    for devices in (1, 2):
        assert main(["fit", "--data", str(data), "--model", "rocket", "--members", "1",
                     "--num-features", "168", "--accelerator", "cpu", "--devices",
                     str(devices), "--out", str(tmp_path / f"run{devices}"), "--quiet"]) == 0
    rows = [(tmp_path / f"run{d}" / "metrics.csv").read_text() for d in (1, 2)]
    assert "transformed" not in rows[0] and ",0:120," in rows[1]  # rank 0 did half
    one, two = (torch.load(tmp_path / f"run{d}" / "checkpoints" / "best.ckpt")["state_dict"]
                for d in (1, 2))
    assert one.keys() == two.keys()
    for name, value in one.items():
        torch.testing.assert_close(two[name], value, rtol=1e-4, atol=1e-5)


def test_float32_batches_as_on_a_gpu_give_the_float64_fit(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """On a GPU each batch's products are float32 (summed in float64): the same model as the
    CPU's float64 batches, to the rounding of float32 (forced here on the CPU)."""
    torch.manual_seed(3)
    x, y = torch.randn(1500, 60, 1), torch.randint(0, 3, (1500,))
    x[y == 1, 20:30] += 0.8
    x[y == 2] *= 1.5
    exact = RocketModel(1, 60, 3, members=1, num_features=840, seed=2).fit(x, y)
    asked: list[torch.device] = []
    monkeypatch.setattr(rocket_module, "batch_dtype",
                        lambda device: asked.append(device) or torch.float32)
    fast = RocketModel(1, 60, 3, members=1, num_features=840, seed=2).fit(x, y)
    assert asked  # the streamed path ran, in float32 batches
    assert fast.report["alphas"] == exact.report["alphas"]
    test = torch.randn(200, 60, 1)
    with torch.no_grad():
        p, q = exact(test).softmax(-1), fast(test).softmax(-1)
    torch.testing.assert_close(q, p, rtol=0, atol=2e-3)
    assert float((p.argmax(-1) == q.argmax(-1)).float().mean()) >= 0.99


@pytest.mark.parametrize(("features", "channels", "samples"), [
    ("minirocket+hydra", 1, 150), ("minirocket+hydra", 1, 1500), ("multirocket", 3, 800),
    ("multirocket+hydra", 2, 700)])  # F = 1184, 1184, 672, 1184
def test_a_dataset_read_a_batch_at_a_time_gives_the_padded_tensors_fit(
        features: str, channels: int, samples: int) -> None:
    """RocketModel.fit on a SequenceDataset (Rows: each batch padded to its own longest
    series, never the whole set) = the fit on the whole set padded into one tensor: the same
    biases (MultiRocket's from series picked at random), penalty and weights, for unequal
    lengths, with the features held (N <= F) and streamed (N > F)."""
    from timedist.data import SequenceDataset, pad_collate

    torch.manual_seed(4)
    lengths = torch.randint(20, 81, (samples,))
    series = [torch.randn(int(n), channels) for n in lengths]
    y = torch.randint(0, 3, (samples,))
    for s, label in zip(series, y.tolist(), strict=True):
        s[: len(s) // 2] += 0.5 * label
    data = SequenceDataset(series, y, classes=["a", "b", "c"])
    x, padded_lengths, _ = pad_collate([data[i] for i in range(samples)])
    settings = dict(members=1, num_features=672, features=features, seed=3)
    whole = RocketModel(channels, 80, 3, **settings).fit(x, y, padded_lengths)
    read = RocketModel(channels, 80, 3, **settings).fit(data, y)
    assert read.report["alphas"] == whole.report["alphas"]
    for name, value in whole.state_dict().items():
        torch.testing.assert_close(read.state_dict()[name], value, rtol=1e-5, atol=1e-6,
                                   msg=name)
    torch.testing.assert_close(read.report["loo"], whole.report["loo"], rtol=1e-5, atol=1e-6)
    if "multirocket" in features:  # fit on the tensor = fit reading only the drawn series
        block = MultiRocketFeatures(channels, 80, num_features=84, seed=3)
        rows = MultiRocketFeatures(channels, 80, num_features=84, seed=3).fit_rows(
            lambda index: data.rows(index), samples)
        assert torch.equal(block.fit(x, padded_lengths).bias0, rows.bias0)
        assert torch.equal(block.bias1, rows.bias1)


def test_temperature_calibrates_and_stays_bounded() -> None:
    torch.manual_seed(5)
    labels = torch.randint(0, 3, (200,))
    scores = torch.randn(200, 3) * 0.3
    scores[torch.arange(200), labels] += 0.3  # informative, not certain
    t = fit_temperature(scores, labels)
    losses = {s: float(torch.nn.functional.cross_entropy(scores * s, labels))
              for s in (t / 2, t, t * 2)}
    assert losses[t] <= min(losses.values()) + 1e-9
    separated = torch.eye(2)[torch.tensor([0, 1] * 10)] * 2 - 1
    assert fit_temperature(separated, torch.tensor([0, 1] * 10)) < 101  # no infinite confidence


def test_rocket_model_state_dict_rebuilds_it() -> None:
    torch.manual_seed(6)
    x, y = torch.randn(30, 40, 1), torch.randn(30, 2)
    model = RocketModel(1, 40, 2, task="regression", members=2, num_features=336, seed=4)
    model.fit(x, y)
    twin = RocketModel(1, 40, 2, task="regression", members=2, num_features=336, seed=4)
    twin.load_state_dict(model.state_dict())
    with torch.no_grad():
        torch.testing.assert_close(twin(x), model(x))
    assert len(model.report["alphas"]) == 2 and model.report["loo"].shape == (30, 2)


def test_rocket_model_errors() -> None:
    with pytest.raises(ValueError, match=r"RocketModel: expected features to be one of"):
        RocketModel(1, 10, 2, features="rocket")
    model = RocketModel(2, 10, 2, members=1, num_features=84)
    with pytest.raises(ValueError, match=r"RocketModel: expected input \(B, T, C\) with C=2; "
                                         r"got shape \(4, 10, 3\)"):
        model(torch.randn(4, 10, 3))
    with pytest.raises(ValueError, match=r"one target per sample \(N=4\); got shape \(3,\)"):
        model.fit(torch.randn(4, 10, 2), torch.tensor([0, 1, 0]))
