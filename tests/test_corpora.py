"""The corpus registry: entries are complete, adapters read each corpus's real layout."""
from __future__ import annotations

import dataclasses
import re
import subprocess
import sys
from collections import Counter

import pytest

import _corpus_fixtures as fx
from mtass_lite import REPO_ROOT, TRACKS
from mtass_lite.data.corpora import (CORPORA, RECIPES, Archive, Corpus, fetch_corpus, get_corpus,
                                     with_base_url)
from mtass_lite.data.download import ChecksumError, DownloadError


def test_registry_entries_are_complete():
    for name, c in CORPORA.items():
        assert c.name == name and c.track in TRACKS
        assert c.licence and c.homepage.startswith("http") and c.title
        assert c.downloadable or c.manual, name
        for a in c.archives:
            assert re.match(r"https?://", a.url) and a.filename
            assert a.md5 is None or re.fullmatch(r"[0-9a-f]{32}", a.md5), name
            assert a.sha256 is None or re.fullmatch(r"[0-9a-f]{64}", a.sha256), name
            assert a.size is None or a.size > 0
            assert all(m.endswith("/" + a.filename) for m in a.mirrors)


def test_published_checksums_recorded():
    # OpenSLR md5sum.txt values (see docs/real_data.md); a typo here would reject every download.
    assert get_corpus("librispeech_dev_clean").archives[0].md5 == "42e2234ba48799c1f50f24a7926300a1"
    assert get_corpus("aishell1").archives[0].md5 == "2f494334227864a8a8fec932999db9d8"
    assert get_corpus("aishell1").size == 15_582_913_665
    assert get_corpus("musan_music").archives == get_corpus("musan_noise").archives  # one download
    for unpublished in ("dsd100", "dns_noise", "esc50", "dsd100subset"):
        a = get_corpus(unpublished).archives[0]
        assert a.md5 is None and a.sha256 is None and a.check == "length"


def test_recipes_cover_three_tracks_with_matching_corpora():
    for r in RECIPES.values():
        for track in TRACKS:
            names = r.corpora(track)
            assert names, (r.name, track)
            for n in names:
                assert get_corpus(n).track == track
        assert set(r.optional) <= {n for t in TRACKS for n in r.corpora(t)}
    assert RECIPES["paper"].corpora("music") == ("dsd100",)
    assert get_corpus("dsd100").channel == "left"  # MTASS kept DSD100's left channel


def test_list_prints_every_corpus_with_size_and_licence():
    out = subprocess.run([sys.executable, str(REPO_ROOT / "data_scripts" / "download.py"), "--list"],
                         capture_output=True, text=True, check=True).stdout
    for name, c in CORPORA.items():
        line = next(ln for ln in out.splitlines() if ln.startswith(name + " "))
        assert c.licence in line
        assert ("GiB" in line or "MiB" in line or "unpublished" in line or "manual" in line), line
    assert "14.5 GiB" in out  # AISHELL-1's published byte size


def test_help_of_both_scripts_explains_usage():
    for script in ("download.py", "prepare_mtass.py"):
        out = subprocess.run([sys.executable, str(REPO_ROOT / "data_scripts" / script), "--help"],
                             capture_output=True, text=True, check=True).stdout
        assert "--recipe" in out and "MTASS_CACHE" in out and "open-mini" in out


def test_manual_corpus_explains_how_to_get_it(tmp_path):
    with pytest.raises(DownloadError, match="outreach.didichuxing.com"):
        fetch_corpus(get_corpus("didispeech"), tmp_path)


@pytest.fixture(scope="module")
def served():
    """Every fabricated corpus archive on one loopback server."""
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
        s.add(name, data)
    yield s, payloads
    s.close()


def local_corpus(name: str, server, payloads) -> Corpus:
    """The registry entry pointed at the loopback server, with the fabricated files' checksums."""
    c = with_base_url(get_corpus(name), server.base_url)
    archives = tuple(dataclasses.replace(a, size=len(payloads[a.filename]), md5=fx.md5(payloads[a.filename]),
                                         sha256=None) for a in c.archives)
    return dataclasses.replace(c, archives=archives)


@pytest.mark.parametrize("name, n_sources, n_files", [
    ("librispeech_dev_clean", 4, 12), ("librispeech_test_clean", 4, 12), ("aishell1", 5, 15),
    ("dsd100", 4, 4), ("dsd100subset", 4, 4), ("dns_noise", 9, 9),
    ("musan_music", 4, 4), ("musan_noise", 6, 6), ("esc50", 6, 7),
])
def test_fetch_and_read_each_corpus_layout(served, tmp_path_factory, name, n_sources, n_files):
    server, payloads = served
    cache = tmp_path_factory.mktemp("cache")
    corpus = local_corpus(name, server, payloads)
    roots = fetch_corpus(corpus, cache, progress=False, backoff=0)
    files = corpus.files(roots)
    assert len(files) == n_files
    assert len({f.source_id for f in files}) == n_sources
    assert all(f.path.exists() for f in files)
    if name == "aishell1":  # nested per-speaker archives unpacked; the corpus's own split kept
        splits = Counter(f.split for f in files)
        assert splits == {"train": 9, "dev": 3, "test": 3}
        assert not list(roots[0].rglob("*.tar.gz"))
    if name == "esc50":
        assert not any("crying_baby" in str(f.path) or "-20.wav" in f.path.name for f in files)
        assert Counter(f.source_id for f in files)["esc50-100032"] == 2  # two takes, one recording
    if name.startswith("dsd100"):
        assert all(f.path.name == "mixture.wav" for f in files)  # stems under Sources/ ignored


def test_wrong_checksum_in_registry_is_refused(served, tmp_path):
    server, payloads = served
    corpus = local_corpus("librispeech_dev_clean", server, payloads)
    wrong = dataclasses.replace(corpus, archives=(dataclasses.replace(corpus.archives[0], md5="0" * 32),))
    with pytest.raises(ChecksumError):
        fetch_corpus(wrong, tmp_path, progress=False, backoff=0)
    assert not (tmp_path / "extracted").exists()


def test_archive_filename_defaults_to_url_basename():
    assert Archive("https://x.org/a/b/dev-clean.tar.gz").filename == "dev-clean.tar.gz"
    assert with_base_url(get_corpus("esc50"), "http://mirror/")\
        .archives[0].url == "http://mirror/ESC-50-master.zip"
