"""Cutting, splitting by source, and the whole recipe end to end on fabricated corpora."""
from __future__ import annotations

import csv
import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

import _corpus_fixtures as fx
from _scripts import load_script
from mtass_lite import SAMPLE_RATE, TRACKS
from mtass_lite.audio import load_audio
from mtass_lite.data.corpora import RECIPES, SourceFile, fetch_corpus, get_corpus, with_base_url
from mtass_lite.data.datasets import MTASSDataset, read_metadata
from mtass_lite.data.prepare import (PrepareError, assign_splits, build_recipe, cut_segments, plan_units,
                                     prepare_segments, read_pools, read_source, resolve_corpora,
                                     segment_unit)

SEG = 0.5  # seconds: the fabricated corpora hold seconds, not hours


def _files(ids, split=None):
    return [SourceFile(Path(f"/x/{i}.wav"), i, split) for i in ids]


def test_assign_splits_is_disjoint_deterministic_and_complete():
    files = _files([f"spk{i}" for i in range(20)])
    a = assign_splits(files, (0.8, 0.1, 0.1), seed=0, salt="speech")
    assert a == assign_splits(list(reversed(files)), (0.8, 0.1, 0.1), seed=0, salt="speech")
    assert sorted(a) == sorted(f.source_id for f in files)
    counts = {s: list(a.values()).count(s) for s in ("train", "dev", "test")}
    assert counts == {"train": 16, "dev": 2, "test": 2}
    assert a != assign_splits(files, (0.8, 0.1, 0.1), seed=1, salt="speech")


def test_assign_splits_keeps_official_and_guarantees_each_split():
    files = _files(["a", "b", "c"]) + _files(["off1"], "dev")
    a = assign_splits(files, (0.8, 0.1, 0.1), seed=0)
    assert a["off1"] == "dev"
    assert set(a.values()) == {"train", "dev", "test"}
    with pytest.raises(PrepareError, match="would be empty"):
        assign_splits(_files(["only", "two"]), (0.8, 0.1, 0.1))
    with pytest.raises(PrepareError, match="both"):
        assign_splits(_files(["s"], "train") + _files(["s"], "test"))


def test_cut_segments_concatenates_and_drops_the_tail():
    chunks = [("a", np.arange(5.0)), ("b", np.arange(5.0, 12.0)), ("c", np.arange(12.0, 13.0))]
    segs = list(cut_segments(chunks, 4))
    assert [s.tolist() for s, _ in segs] == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9, 10, 11]]
    assert segs[1][1] == [("a", 4, 1), ("b", 0, 3)]  # origin: (file, offset, length) pieces


def test_read_source_left_channel_and_resampling(tmp_path):
    x = fx.tone(1.0, 44100, 500, seed=0, channels=2)
    sf.write(tmp_path / "m.wav", x, 44100)
    left, mean = read_source(tmp_path / "m.wav", "left"), read_source(tmp_path / "m.wav", "mean")
    assert left.shape == (SAMPLE_RATE,) and left.dtype == np.float32
    spec = np.abs(np.fft.rfft(left))
    assert abs(np.argmax(spec) - 500) <= 1  # the left channel's 500 Hz tone survives 44.1 -> 16 kHz
    assert np.abs(left - mean).max() > 0.05  # and it is not the downmix


@pytest.fixture(scope="module")
def served():
    s = fx.RangeServer()
    payloads = {
        "dev-clean.tar.gz": fx.make_librispeech("dev-clean"),
        "test-clean.tar.gz": fx.make_librispeech("test-clean", speakers=(61, 121, 237, 260)),
        "data_aishell.tgz": fx.make_aishell1(),
        "DSD100.zip": fx.make_dsd100("DSD100"),
        "DSD100subset.zip": fx.make_dsd100("DSD100subset"),
        "datasets.noise.tar.bz2": fx.make_dns_noise(),
        "musan.tar.gz": fx.make_musan(),
        "ESC-50-master.zip": fx.make_esc50(),
    }
    for name, data in payloads.items():
        # the first request for every archive is cut mid-way: each recipe also exercises resume
        s.add(name, data, drop_after=len(data) // 2)
    yield s, payloads
    s.close()


def _overrides(server, payloads):
    out = {}
    for name, c in ((n, get_corpus(n)) for n in {n for r in RECIPES.values() for n in r.required}):
        c = with_base_url(c, server.base_url)
        out[name] = dataclasses.replace(c, archives=tuple(
            dataclasses.replace(a, size=len(payloads[a.filename]), md5=fx.md5(payloads[a.filename]), sha256=None)
            for a in c.archives))
    return out


def _read_csv(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


@pytest.mark.parametrize("recipe", ["open-mini", "open", "paper"])
def test_build_recipe_end_to_end(served, tmp_path, recipe):
    server, payloads = served
    n = {"train": 6, "dev": 3, "test": 3}
    root = build_recipe(recipe, tmp_path / "mtass", cache=tmp_path / "cache", overrides=_overrides(*served),
                        n_mixtures=n, segment_seconds=SEG, workers=1, progress=False,
                        fetch_kwargs={"backoff": 0})
    # every corpus was downloaded after an interruption, by resuming
    assert any(r and r.startswith("bytes=") for _, r in server.requests)

    seg = _read_csv(root / "_sources" / "segments.csv")
    splits = _read_csv(root / "_sources" / "splits.csv")
    owner = {}
    for row in seg:  # no speaker / song / recording in two splits
        for sid in row["source_ids"].split(";"):
            assert owner.setdefault(sid, row["split"]) == row["split"], sid
        assert sf.info(str(root / "_sources" / row["path"])).frames == int(SEG * SAMPLE_RATE)
    assert {(r["source_id"], r["split"]) for r in splits} >= set(owner.items())
    if recipe == "paper":  # AISHELL-1's own speaker split is kept
        assert {r["split"] for r in splits if r["source_id"] == "aishell1-S0724"} == {"dev"}

    for split, count in n.items():
        ds = MTASSDataset(root, split)
        assert len(ds) == count
        mix, tgt = ds[0]
        assert tgt.shape == (3, int(SEG * SAMPLE_RATE))
        assert float((mix - tgt.sum(0)).abs().max()) < 1e-5  # mixture = sum of the written targets
        segs_of_split = {Path(r["path"]).stem for r in seg if r["split"] == split}
        for row in read_metadata(root, split):  # mixtures only draw from their own split's segments
            assert {row[f"{t}_id"] for t in TRACKS} <= segs_of_split
    info = json.loads((root / "recipe.json").read_text())
    assert info["recipe"] == recipe and {c["track"] for c in info["corpora"]} == set(TRACKS)


def test_rerun_resumes_without_redoing_work(served, tmp_path):
    server, payloads = served
    kw = dict(cache=tmp_path / "cache", overrides=_overrides(*served), n_mixtures={"train": 4, "dev": 2, "test": 2},
              segment_seconds=SEG, workers=1, progress=False, fetch_kwargs={"backoff": 0})
    root = build_recipe("open-mini", tmp_path / "d", **kw)
    first = {p: p.stat().st_mtime_ns for p in (root / "_sources").rglob("*.wav")}
    shutil_target = next(iter((root / "train" / "mixture").glob("*.wav")))
    shutil_target.unlink()  # as if killed while mixing
    n_requests = len(server.requests)
    build_recipe("open-mini", tmp_path / "d", **kw)
    assert len(server.requests) == n_requests  # nothing downloaded again
    assert {p: p.stat().st_mtime_ns for p in (root / "_sources").rglob("*.wav")} == first
    assert shutil_target.exists()


def test_music_segments_are_the_left_channel(served, tmp_path):
    server, payloads = served
    corpus = _overrides(*served)["dsd100subset"]
    roots = fetch_corpus(corpus, tmp_path / "cache", progress=False, backoff=0)
    files = corpus.files(roots)
    speech = [SourceFile(Path(f"/nowhere/{i}.wav"), f"s{i}") for i in range(3)]
    with pytest.raises(PrepareError, match="no corpus for the noise track"):
        prepare_segments([(corpus, files), (get_corpus("librispeech_dev_clean"), speech)], tmp_path / "s",
                         segment_seconds=SEG, progress=False)
    # music alone: cut each song, and compare its second segment with its left channel
    T = int(SEG * SAMPLE_RATE)
    units = plan_units(corpus, files, assign_splits(files, seed=0, salt="music"))
    assert len(units) == 4 and all(u.channel == "left" for u in units)
    for unit in units:
        recs = segment_unit(unit, tmp_path / "s", T, subtype="FLOAT")
        assert len(recs) == 5  # 2.5-s songs, 0.5-s segments
        expected = read_source(unit.files[0], "left")[T:2 * T]
        np.testing.assert_allclose(load_audio(tmp_path / "s" / recs[1]["path"]), expected, atol=1e-6)


def test_parallel_cutting_matches_serial(served, tmp_path):
    server, payloads = served
    corpus = _overrides(*served)["librispeech_dev_clean"]
    files = corpus.files(fetch_corpus(corpus, tmp_path / "cache", progress=False, backoff=0))
    noise = _overrides(*served)["esc50"]
    nfiles = noise.files(fetch_corpus(noise, tmp_path / "cache", progress=False, backoff=0))
    music = _overrides(*served)["dsd100subset"]
    mfiles = music.files(fetch_corpus(music, tmp_path / "cache", progress=False, backoff=0))
    sources = [(corpus, files), (music, mfiles), (noise, nfiles)]
    a = prepare_segments(sources, tmp_path / "serial", segment_seconds=SEG, workers=1, progress=False)
    b = prepare_segments(sources, tmp_path / "parallel", segment_seconds=SEG, workers=2, progress=False)
    rel = lambda pools, base: {s: {t: [p.relative_to(base) for p in v] for t, v in d.items()}  # noqa: E731
                               for s, d in pools.items()}
    assert rel(a, tmp_path / "serial") == rel(b, tmp_path / "parallel")
    assert rel(read_pools(tmp_path / "serial"), tmp_path / "serial") == rel(a, tmp_path / "serial")
    p = a["train"]["speech"][0]
    np.testing.assert_array_equal(load_audio(p), load_audio(tmp_path / "parallel" / p.relative_to(tmp_path / "serial")))


def test_resolve_corpora_needs_manual_or_local_copies(tmp_path):
    names = [c.name for c, _ in resolve_corpora("paper")]
    assert "didispeech" not in names and "aishell1" in names  # optional until given
    chosen = dict((c.name, r) for c, r in resolve_corpora("paper", {"didispeech": tmp_path}))
    assert chosen["didispeech"] == [tmp_path] and chosen["aishell1"] is None
    with pytest.raises(PrepareError, match="not in recipe"):
        resolve_corpora("open", {"aishell1": tmp_path})


def test_prepare_script_runs_on_a_mirror(served, tmp_path, monkeypatch):
    """``prepare_mtass.py --base-url`` with checksums that match: the fabricated open-mini corpora
    carry no published checksum, so the real registry entries work against the mirror as is."""
    _, payloads = served
    server = fx.RangeServer()  # no dropped connections here: the script would wait to retry
    for name in ("DSD100subset.zip", "ESC-50-master.zip"):
        server.add(name, payloads[name])
    mod = load_script("data_scripts/prepare_mtass.py")
    # LibriSpeech's real md5 would (rightly) reject the fabricated archive: give a local copy instead.
    libri = fetch_corpus(_overrides(*served)["librispeech_dev_clean"], tmp_path / "c0", progress=False, backoff=0)
    rc = mod.main(["--recipe", "open-mini", "--out", str(tmp_path / "out"), "--cache", str(tmp_path / "cache"),
                   "--base-url", server.base_url, "--corpus-dir", f"librispeech_dev_clean={libri[0]}",
                   "--n-train", "3", "--n-dev", "2", "--n-test", "2", "--segment-seconds", str(SEG),
                   "--workers", "1", "--quiet"])
    server.close()
    assert rc == 0
    assert len(MTASSDataset(tmp_path / "out", "test")) == 2


def test_changed_settings_recut_instead_of_reusing_stale_units(served, tmp_path):
    ov = _overrides(*served)
    sources = [(ov[n], ov[n].files(fetch_corpus(ov[n], tmp_path / "cache", progress=False, backoff=0)))
               for n in ("librispeech_dev_clean", "dsd100subset", "esc50")]
    prepare_segments(sources, tmp_path / "s", segment_seconds=SEG, progress=False)
    pools = prepare_segments(sources, tmp_path / "s", segment_seconds=SEG / 2, progress=False)
    lengths = {sf.info(str(p)).frames for d in pools.values() for v in d.values() for p in v}
    assert lengths == {int(SEG / 2 * SAMPLE_RATE)}
