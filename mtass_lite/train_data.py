"""The training data plan: which crops step ``s`` trains on, as a pure function of ``(seed, s)``.

Part of :mod:`mtass_lite.train` (which re-exports :func:`batch_plan`); chapter 05 explains why the
order is a function and not a stream: a run resumed at any step sees exactly the batches the
uninterrupted run would have seen, with no sampler or DataLoader state in the checkpoint.

- :func:`batch_plan` — ``[(item, crop offset), ...]`` of one step on one rank.
- :class:`_Crops` — the train set indexed by those pairs.
- :class:`_StepBatches` — a batch sampler yielding one plan per step.
- :func:`step_loader` — the ``DataLoader`` over steps ``first..last`` that the trainer iterates.
"""
from __future__ import annotations

import numpy as np
import torch

from .data.datasets import MTASSDataset


def batch_plan(step: int, lengths: list[int], batch_size: int, segment: int, seed: int,
               world_size: int = 1, rank: int = 0) -> list[tuple[int, int]]:
    """``[(item index, crop offset in samples), ...]`` for training step ``step`` (1-based) on ``rank``.

    The global batch of a step holds ``batch_size * world_size`` items taken in order from a
    permutation of the train set that is redrawn every epoch (``rng(seed, epoch)``); rank ``r`` takes
    every ``world_size``-th item from position ``r``. Crop offsets are uniform in each file
    (``rng(seed, step)``). Nothing depends on earlier steps, so resuming at any step is exact.
    """
    n = len(lengths)
    g = batch_size * world_size
    pos = np.arange((step - 1) * g, step * g)
    epochs = pos // n
    perms = {int(e): np.random.default_rng([seed, 0, int(e)]).permutation(n) for e in np.unique(epochs)}
    idx = np.array([perms[int(e)][p % n] for e, p in zip(epochs, pos)])
    rng = np.random.default_rng([seed, 1, step])
    hi = np.array([max(1, lengths[i] - segment + 1) for i in idx])
    offsets = (rng.random(g) * hi).astype(np.int64)
    plan = [(int(i), int(o)) for i, o in zip(idx, offsets)]
    return plan[rank::world_size]


class _Crops(torch.utils.data.Dataset):
    """Map-style view of an :class:`MTASSDataset` indexed by ``(item, offset)`` pairs."""

    def __init__(self, ds: MTASSDataset):
        self.ds = ds

    def __len__(self):
        return len(self.ds)

    def __getitem__(self, key):
        i, offset = key
        self.ds.set_offsets({i: offset})
        return self.ds[i]


class _StepBatches(torch.utils.data.Sampler):
    """Batches for steps ``first..last``: ``batch_plan(step, ...)`` for each."""

    def __init__(self, first: int, last: int, **plan_kwargs):
        self.first, self.last, self.kw = first, last, plan_kwargs

    def __iter__(self):
        for step in range(self.first, self.last + 1):
            yield batch_plan(step, **self.kw)

    def __len__(self):
        return max(0, self.last - self.first + 1)


def train_lengths(train_set: MTASSDataset) -> list[int]:
    """Length in samples of every train file (what :func:`batch_plan` draws crop offsets within)."""
    return [train_set.num_samples(i) for i in range(len(train_set))]


def step_loader(train_set: MTASSDataset, first: int, last: int, *, batch_size: int, seed: int,
                world_size: int = 1, rank: int = 0, num_workers: int = 0,
                pin_memory: bool = False) -> torch.utils.data.DataLoader:
    """``(mixture [B, T], targets [B, 3, T])`` for steps ``first..last`` (``B = batch_size``), in order.

    Step ``s`` holds the crops of ``batch_plan(s, ...)`` for this rank, whatever ``first`` is.
    """
    sampler = _StepBatches(first, last, lengths=train_lengths(train_set), batch_size=batch_size,
                           segment=train_set.segment_samples, seed=seed, world_size=world_size, rank=rank)
    return torch.utils.data.DataLoader(_Crops(train_set), batch_sampler=sampler, num_workers=num_workers,
                                       pin_memory=pin_memory,
                                       # its own generator: iterating must not draw from the global
                                       # RNG, or a resumed run's dropout masks shift
                                       generator=torch.Generator().manual_seed(seed))
