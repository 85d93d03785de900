"""Moving digits: reproducible, labelled motion, symmetric positions, disjoint digits."""

from __future__ import annotations

import torch

from timedist.data import load_dataset, moving_digits, moving_digits_forecast
from timedist.data.moving_digits import DIRECTIONS, digits


def centre_of_mass(clips: torch.Tensor) -> torch.Tensor:
    """(N, T, 1, S, S) -> (N, T, 2) row/column centre of the ink."""
    ink = clips[:, :, 0]
    grid = torch.arange(ink.shape[-1], dtype=torch.float32)
    total = ink.sum((-1, -2))
    rows = (ink.sum(-1) * grid).sum(-1) / total
    cols = (ink.sum(-2) * grid).sum(-1) / total
    return torch.stack([rows, cols], -1)


def test_reproducible_from_the_seed_and_different_across_seeds() -> None:
    a, b = moving_digits("train", count=50, seed=3), moving_digits("train", count=50, seed=3)
    assert all(torch.equal(x, y) for x, y in zip(a.sequences, b.sequences, strict=True))
    assert torch.equal(a.targets, b.targets)
    c = moving_digits("train", count=50, seed=4)
    assert not torch.equal(a.targets, c.targets)


def test_the_digit_moves_the_labelled_way() -> None:
    data = moving_digits("test", count=400)
    com = centre_of_mass(torch.stack(data.sequences))
    step = com[:, 1:] - com[:, :-1]  # (N, T-1, 2)
    direction = data.targets % 4
    expected = {"up": (0, -1), "down": (0, 1), "left": (1, -1), "right": (1, 1)}
    for index, name in enumerate(DIRECTIONS):
        axis, sign = expected[name]
        moving = step[direction == index]
        assert (sign * moving[..., axis] > 1.5).all(), name  # speed 2 px per frame
        assert (moving[..., 1 - axis].abs() < 1e-4).all(), name
    digit = data.targets // 4
    assert set(digit.tolist()) == set(range(10)) and len(data.classes or []) == 40
    assert data.classes is not None and data.classes[int(data.targets[0])].endswith(
        DIRECTIONS[int(direction[0])])


def test_opposite_directions_visit_the_same_positions() -> None:
    data = moving_digits("train", count=4000)
    com = centre_of_mass(torch.stack(data.sequences))
    direction = data.targets % 4
    for a, b, axis in ((0, 1, 0), (2, 3, 1)):  # up/down along rows, left/right along columns
        pa, pb = com[direction == a][..., axis], com[direction == b][..., axis]
        # the same trajectories, run in opposite orders: reversing one gives the other's order
        assert (pa[:, 1:] < pa[:, :-1]).all() and (pb[:, 1:] > pb[:, :-1]).all()
        starts_a, starts_b = pa.min(1).values, pb.min(1).values
        assert abs(float(starts_a.mean() - starts_b.mean())) < 0.5
        quantiles = torch.tensor([0.1, 0.5, 0.9])
        torch.testing.assert_close(pa.flatten().quantile(quantiles),
                                   pb.flatten().quantile(quantiles), atol=1.0, rtol=0)


def test_train_and_test_use_disjoint_digit_images() -> None:
    train, train_labels = digits("train")
    test, _ = digits("test")
    assert (len(train), len(test)) == (4000, 1000)
    assert train_labels.bincount().tolist() == [400] * 10
    seen = {image.numpy().tobytes() for image in train}
    assert not any(image.numpy().tobytes() in seen for image in test)


def test_forecast_targets_are_the_true_continuation() -> None:
    early = moving_digits_forecast("test", count=20, frames_in=3, frames_out=7)
    late = moving_digits_forecast("test", count=20, frames_in=7, frames_out=3)
    for i in range(20):
        whole_early = torch.cat([early.sequences[i], early.targets[i]])
        whole_late = torch.cat([late.sequences[i], late.targets[i]])
        assert torch.equal(whole_early, whole_late)  # the split point changes nothing
    x, y = early[0]
    assert x.shape == (3, 1, 32, 32) and y.shape == (7, 1, 32, 32) and float(y.max()) <= 1


def test_built_in_moving_digits() -> None:
    train, test = load_dataset("moving-digits")
    assert (len(train), len(test)) == (6000, 1000) and train.standardization is None
    assert train[0][0].shape == (8, 1, 32, 32)
    forecast_train, forecast_test = load_dataset("moving-digits-forecast")
    assert (len(forecast_train), len(forecast_test)) == (2000, 400)
