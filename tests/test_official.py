"""The reader for datasets made by the official MTASS scripts (``<split>/mixture/mixtureN/mixture_N.wav``)."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from _corpus_fixtures import write_official_tree
from mtass_lite.data.datasets import MTASSDataset, read_metadata
from mtass_lite.data.official import (OfficialLayoutError, OfficialMTASSDataset, link_official,
                                      scan_official_split)


@pytest.fixture
def official(tmp_path):
    root = tmp_path / "Dataset"
    write_official_tree(root, "train", 12, wrap=3)  # indices 0..11: "10" sorts before "2" as text
    write_official_tree(root, "test", 2)
    return root


def test_scan_sorts_numerically_and_finds_all_tracks(official):
    items = scan_official_split(official, "train")
    assert [it.index for it in items] == list(range(12))
    assert items[10].paths["music"].name == "music_10.wav"
    assert set(items[0].paths) == {"mixture", "speech", "music", "noise"}


def test_dataset_returns_mixture_and_targets_in_track_order(official):
    ds = OfficialMTASSDataset(official, "train")
    assert len(ds) == 12 and ds.ids[:3] == ["0", "1", "2"]
    mix, tgt = ds[1]
    assert mix.dtype == torch.float32 and tgt.shape == (3, mix.shape[0]) == (3, 8000)
    assert float((mix - tgt.sum(0)).abs().max()) < 2e-4  # int16 rounding of four files
    # speech is the 210 Hz tone of item 1 (write_official_tree: 200 + 10 i), music 610 Hz
    for k, f in ((0, 210), (1, 610)):
        spectrum = np.abs(np.fft.rfft(tgt[k].numpy()))
        assert abs(np.argmax(spectrum) * 16000 / 8000 - f) <= 2


def test_segment_crops_and_offsets(official):
    ds = OfficialMTASSDataset(official, "train", segment=0.25)
    full = OfficialMTASSDataset(official, "train")[2][0]
    ds.set_offsets({2: 1000})
    mix, tgt = ds[2]
    assert tgt.shape == (3, 4000)
    torch.testing.assert_close(mix, full[1000:5000])


def test_wrapped_mixture_is_detected(official):
    ds = OfficialMTASSDataset(official, "train")
    assert ds.sum_residual(0) < 2e-4
    assert ds.sum_residual(3) > 0.5  # 1.2 became about -0.8 in the official int16 cast


def test_link_official_gives_our_layout(official, tmp_path):
    out = link_official(official, tmp_path / "ours")
    ours, theirs = MTASSDataset(out, "train"), OfficialMTASSDataset(official, "train")
    assert len(ours) == 12 and (out / "test" / "metadata.csv").exists()
    assert not (out / "dev").exists()  # absent from the official tree: skipped
    assert read_metadata(out, "train")[10]["official_index"] == "10"
    for i in (0, 10):
        a, b = ours[i], theirs[i]
        torch.testing.assert_close(a[0], b[0])
        torch.testing.assert_close(a[1], b[1])
    link_official(official, tmp_path / "copied", mode="copy")
    assert not (tmp_path / "copied" / "train" / "mixture" / "00000.wav").is_symlink()


def test_broken_trees_are_reported(official):
    (official / "train" / "noise" / "noise5" / "noise_5.wav").unlink()
    with pytest.raises(OfficialLayoutError, match="noise5"):
        scan_official_split(official, "train")
    with pytest.raises(OfficialLayoutError, match="missing mixture"):
        OfficialMTASSDataset(official, "dev")


def test_lone_file_with_another_name_is_accepted(official):
    folder = official / "test" / "speech" / "speech1"
    (folder / "speech_1.wav").rename(folder / "renamed.wav")
    assert scan_official_split(official, "test")[1].paths["speech"].name == "renamed.wav"
