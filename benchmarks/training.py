"""One training epoch of the moving-digits CNN-LSTM: timedist vs hand-written PyTorch vs Keras 3.

The same architecture everywhere (three stride-2 conv-BN-ReLU blocks under TimeDistributed, a
linear layer to 128 features, LSTM(128), a linear head over 40 classes), the same 6000 clips
(B=64, T=8, 1x32x32), Adam, one epoch. Candidates:

- timedist, plain loop: ``timedist.models.CNNLSTM`` and a hand-written training loop;
- timedist fit (Lightning): the same model through ``SequenceTask`` and Lightning's Trainer
  (what ``timedist fit`` runs, without validation or checkpoints);
- hand-written PyTorch: fold (B, T) by reshape, the encoder, unfold, ``nn.LSTM``, last step;
- Keras 3 (KERAS_BACKEND=torch): ``TimeDistributed(Conv2D...)``, ``LSTM``, ``model.fit``.

Each candidate runs a few warm-up batches, then one timed epoch; rounds repeat that in a
shuffled order. Run: ``python benchmarks/training.py`` (``--quick`` for a smoke run).
"""

from __future__ import annotations

import os
import random
import statistics
import time
from collections.abc import Callable

os.environ.setdefault("KERAS_BACKEND", "torch")

import torch
from _common import bench_main, machine_line
from torch import Tensor, nn

from timedist.data import moving_digits
from timedist.models import CNNLSTM, frame_encoder

BATCH, CLASSES, HIDDEN, FEATURES = 64, 40, 128, 128
Epoch = Callable[[], None]


def batches(x: Tensor, y: Tensor) -> list[tuple[Tensor, Tensor]]:
    return [(x[i : i + BATCH], y[i : i + BATCH]) for i in range(0, len(x), BATCH)]


def torch_epoch(model: nn.Module, data: list[tuple[Tensor, Tensor]]) -> Epoch:
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)

    def epoch() -> None:
        model.train()
        for xb, yb in data:
            loss = nn.functional.cross_entropy(model(xb), yb)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()

    return epoch


class HandWritten(nn.Module):
    """What people write without TimeDistributed: reshape, encode, reshape, LSTM, last step."""

    def __init__(self) -> None:
        super().__init__()
        self.encoder = frame_encoder(1, FEATURES)
        self.lstm = nn.LSTM(FEATURES, HIDDEN, batch_first=True)
        self.head = nn.Linear(HIDDEN, CLASSES)

    def forward(self, x: Tensor) -> Tensor:
        b, t = x.shape[:2]
        features = self.encoder(x.reshape(b * t, *x.shape[2:])).reshape(b, t, -1)
        out, _ = self.lstm(features)
        result: Tensor = self.head(out[:, -1])
        return result


def lightning_epoch(x: Tensor, y: Tensor) -> Epoch:
    import logging
    import warnings

    import lightning.pytorch as pl
    from torch.utils.data import DataLoader

    from timedist.data import SequenceDataset, pad_collate
    from timedist.train import SequenceTask

    dataset = SequenceDataset(list(x), y, classes=[str(i) for i in range(CLASSES)])
    loader = DataLoader(dataset, batch_size=BATCH, shuffle=True, collate_fn=pad_collate)
    task = SequenceTask(CNNLSTM(frame_encoder(1, FEATURES), FEATURES, CLASSES,
                                hidden_size=HIDDEN), "classification", lr=1e-3)

    logging.getLogger("lightning.pytorch").setLevel(logging.WARNING)
    warnings.filterwarnings("ignore", message=".*(validation_step|LeafSpec|many workers)")

    def epoch() -> None:
        trainer = pl.Trainer(accelerator="cpu", max_epochs=1, logger=False,
                             enable_checkpointing=False, enable_progress_bar=False,
                             enable_model_summary=False, num_sanity_val_steps=0)
        trainer.fit(task, loader)

    return epoch


def keras_epoch(x: Tensor, y: Tensor) -> tuple[Epoch, int]:
    import keras
    from keras import layers

    def conv(filters: int) -> list[layers.Layer]:
        return [layers.TimeDistributed(layers.Conv2D(filters, 3, strides=2, padding="same")),
                layers.TimeDistributed(layers.BatchNormalization()), layers.ReLU()]

    model = keras.Sequential([
        keras.Input((x.shape[1], 32, 32, 1)), *conv(32), *conv(64), *conv(64),
        layers.TimeDistributed(layers.Flatten()),
        layers.TimeDistributed(layers.Dense(FEATURES, activation="relu")),
        layers.LSTM(HIDDEN), layers.Dense(CLASSES)])
    model.compile(optimizer=keras.optimizers.Adam(1e-3),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    x_last = x.permute(0, 1, 3, 4, 2).numpy()  # channels last, as Keras expects
    y_np = y.numpy()
    trainable = sum(int(v.numpy().size) for v in model.trainable_weights)

    def epoch() -> None:
        model.fit(x_last, y_np, batch_size=BATCH, epochs=1, verbose=0, shuffle=True)

    return epoch, trainable


def run(quick: bool, rounds: int) -> None:
    count = 128 if quick else 6000
    clips = moving_digits("train", count=count)
    x, y = torch.stack(clips.sequences), clips.targets
    data = batches(x, y)
    ours = CNNLSTM(frame_encoder(1, FEATURES), FEATURES, CLASSES, hidden_size=HIDDEN)
    plain = HandWritten()
    epochs: dict[str, Epoch] = {
        "timedist CNNLSTM, plain loop": torch_epoch(ours, data),
        "hand-written PyTorch": torch_epoch(plain, data),
        "timedist fit (Lightning Trainer)": lightning_epoch(x, y),
    }
    keras_run, keras_params = keras_epoch(x, y)
    epochs["Keras 3 (torch backend)"] = keras_run
    params = sum(p.numel() for p in ours.parameters())
    assert params == sum(p.numel() for p in plain.parameters()), "architectures differ"
    print(f"machine: {machine_line()}")
    print(f"{count} clips (T=8, 1x32x32), batch {BATCH}; trainable parameters: torch {params:,},"
          f" Keras {keras_params:,} (Keras' LSTM has one bias vector, torch's two)")
    warm = batches(x[: 3 * BATCH], y[: 3 * BATCH])
    for model in (ours, plain):  # warm-up: a few batches each
        torch_epoch(model, warm)()
    samples: dict[str, list[float]] = {name: [] for name in epochs}
    order = list(epochs)
    for _ in range(rounds):
        random.Random(len(samples[order[0]])).shuffle(order)
        for name in order:
            start = time.perf_counter()
            epochs[name]()
            samples[name].append(time.perf_counter() - start)
    base = statistics.median(samples["hand-written PyTorch"])
    print("\n### One training epoch, moving-digits CNN-LSTM\n")
    print("| implementation | median s/epoch | vs hand-written | min s |")
    print("|---|---:|---:|---:|")
    for name, times in samples.items():
        median = statistics.median(times)
        print(f"| {name} | {median:.2f} | {median / base:.2f}x | {min(times):.2f} |")


if __name__ == "__main__":
    bench_main(__doc__.splitlines()[0], run, rounds=2)
