"""Downloads against a loopback server: resume, verification, mirrors, atomic unpacking."""
from __future__ import annotations

import io
import os
import tarfile

import pytest

from _corpus_fixtures import RangeServer, md5, sha256, tar_bytes, zip_bytes
from mtass_lite.data.download import (ArchiveError, ChecksumError, DownloadError, Expected, archive_stem,
                                      extract, extract_nested, fetch, verify_file)

PAYLOAD = os.urandom(3 * (1 << 20) + 12345)  # > 3 chunks, so an interruption lands mid-file


@pytest.fixture
def server():
    s = RangeServer()
    yield s
    s.close()


def _fetch(url, dest, expected, **kw):
    return fetch(url, dest, expected, backoff=0, progress=False, timeout=10, **kw)


def test_fetch_verifies_and_caches(server, tmp_path):
    url = server.add("a.bin", PAYLOAD)
    dest = _fetch(url, tmp_path / "a.bin", Expected(size=len(PAYLOAD), md5=md5(PAYLOAD)))
    assert dest.read_bytes() == PAYLOAD
    assert not (tmp_path / "a.bin.part").exists()
    n = len(server.requests)
    _fetch(url, dest, Expected(md5=md5(PAYLOAD)))  # cached and verified: no request
    assert len(server.requests) == n


def test_interrupted_download_resumes_with_range(server, tmp_path):
    cut = 1_500_000
    url = server.add("big.tar.gz", PAYLOAD, drop_after=cut)
    dest = _fetch(url, tmp_path / "big.tar.gz", Expected(sha256=sha256(PAYLOAD)))
    assert dest.read_bytes() == PAYLOAD
    ranges = [r for _, r in server.requests]
    assert ranges[0] is None and ranges[1] == f"bytes={cut}-", ranges


def test_partial_file_from_an_earlier_run_is_resumed(server, tmp_path):
    url = server.add("c.bin", PAYLOAD)
    (tmp_path / "c.bin.part").write_bytes(PAYLOAD[:777])
    _fetch(url, tmp_path / "c.bin", Expected(md5=md5(PAYLOAD)))
    assert server.requests == [("/c.bin", "bytes=777-")]
    assert (tmp_path / "c.bin").read_bytes() == PAYLOAD


def test_server_ignoring_range_restarts_from_zero(server, tmp_path):
    url = server.add("d.zip", PAYLOAD, drop_after=100_000, ignore_range=True)
    dest = _fetch(url, tmp_path / "d.zip", Expected(md5=md5(PAYLOAD)))
    assert dest.read_bytes() == PAYLOAD  # the first 100 kB were not appended twice


def test_corrupted_download_is_rejected_not_used(server, tmp_path):
    bad = bytearray(PAYLOAD)
    bad[2_000_000] ^= 0xFF
    url = server.add("e.tgz", bytes(bad))
    with pytest.raises(ChecksumError, match="md5"):
        _fetch(url, tmp_path / "e.tgz", Expected(md5=md5(PAYLOAD)))
    assert not (tmp_path / "e.tgz").exists()
    assert (tmp_path / "e.tgz.corrupt").exists()
    assert len([p for p, _ in server.requests if p == "/e.tgz"]) == 2  # one fresh re-fetch, then report


def test_truncated_cached_file_is_detected_and_refetched(server, tmp_path):
    url = server.add("f.bin", PAYLOAD)
    (tmp_path / "f.bin").write_bytes(PAYLOAD[:1000])  # e.g. copied by hand, cut short
    dest = _fetch(url, tmp_path / "f.bin", Expected(size=len(PAYLOAD)))
    assert dest.read_bytes() == PAYLOAD


def test_size_only_verification(tmp_path):
    p = tmp_path / "g.bin"
    p.write_bytes(b"x" * 10)
    verify_file(p, Expected(size=10))
    with pytest.raises(ChecksumError, match="10 bytes, expected 11"):
        verify_file(p, Expected(size=11))


def test_mirror_used_when_first_url_fails(server, tmp_path):
    url = server.add("missing.bin", b"", status=404)
    mirror = server.add("mirror/h.bin", PAYLOAD)
    dest = _fetch(url, tmp_path / "h.bin", Expected(md5=md5(PAYLOAD)), mirrors=[mirror])
    assert dest.read_bytes() == PAYLOAD


def test_all_urls_failing_is_reported(server, tmp_path):
    url = server.add("nothing.bin", b"", status=404)
    with pytest.raises(DownloadError, match="HTTP 404"):
        _fetch(url, tmp_path / "nothing.bin", Expected())


def test_extract_is_atomic_and_idempotent(tmp_path):
    arc = tmp_path / "x.tar.gz"
    arc.write_bytes(tar_bytes({"top/a.txt": b"a", "top/sub/b.txt": b"b"}))
    out = extract(arc, tmp_path / "x", progress=False)
    assert (out / "top/sub/b.txt").read_bytes() == b"b" and (out / ".complete").exists()
    (out / "top/a.txt").write_bytes(b"changed")
    extract(arc, out, progress=False)  # marker present: left alone
    assert (out / "top/a.txt").read_bytes() == b"changed"
    zarc = tmp_path / "y.zip"
    zarc.write_bytes(zip_bytes({"z/c.txt": b"c"}))
    assert (extract(zarc, tmp_path / "y", progress=False) / "z/c.txt").read_bytes() == b"c"


def test_truncated_archive_reported_and_nothing_left(tmp_path):
    data = tar_bytes({f"t/{i}.bin": os.urandom(50_000) for i in range(5)})
    arc = tmp_path / "t.tar.gz"
    arc.write_bytes(data[: len(data) // 2])
    with pytest.raises(ArchiveError, match="truncated or corrupted"):
        extract(arc, tmp_path / "t", progress=False)
    assert not (tmp_path / "t").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".t.tmp")]


def test_unsafe_member_paths_refused(tmp_path):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as t:
        info = tarfile.TarInfo("../evil.txt")
        info.size = 1
        t.addfile(info, io.BytesIO(b"x"))
    arc = tmp_path / "evil.tar.gz"
    arc.write_bytes(buf.getvalue())
    with pytest.raises(ArchiveError, match="unsafe"):
        extract(arc, tmp_path / "evil", progress=False)
    assert not (tmp_path / "evil.txt").exists()


def test_extract_nested_merges_and_resumes(tmp_path):
    wav = tmp_path / "data_aishell" / "wav"
    wav.mkdir(parents=True)
    (wav / "S1.tar.gz").write_bytes(tar_bytes({"train/S1/a.wav": b"1"}))
    (wav / "S2.tar.gz").write_bytes(tar_bytes({"train/S2/b.wav": b"2"}))
    assert len(extract_nested(tmp_path, progress=False)) == 2
    assert (wav / "train/S1/a.wav").read_bytes() == b"1" and (wav / "train/S2/b.wav").exists()
    assert extract_nested(tmp_path, progress=False) == []  # markers: nothing redone


def test_archive_stem():
    assert archive_stem("dev-clean.tar.gz") == "dev-clean"
    assert archive_stem("data_aishell.tgz") == "data_aishell"
    assert archive_stem("ESC-50-master.zip") == "ESC-50-master"
    assert archive_stem("datasets.noise.tar.bz2") == "datasets.noise"
