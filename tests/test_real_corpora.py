"""realmini / realmore rebuilt from GitHub originals: URLs, verification, conversion, mirror, resume.

Everything runs offline: a loopback server (``_corpus_fixtures.RangeServer``) stands in for
raw.githubusercontent.com, serving tiny generated originals at ``/<repo>/<commit>/<path>``.
Where ``../shared/data`` exists, the shipped manifests and the conversion are also checked against
the shared folders (skipped otherwise).
"""
from __future__ import annotations

import hashlib
import io
import re
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import soxr

from _corpus_fixtures import RangeServer, audio_bytes, sha256, tone
from mtass_lite import REPO_ROOT, TRACKS
from mtass_lite.__main__ import main
from mtass_lite.data.download import ChecksumError, DownloadError
from mtass_lite.data.real_corpora import (REAL_SETS, ManifestError, ManifestRow, RealSet, build_real_set,
                                          convert_audio, get_real_set, mirror_path, originals_cache,
                                          raw_url, read_manifest, write_manifest)

SHARED = REPO_ROOT.parent / "shared" / "data"
COMMIT_A = "4e69bf1a29621515d4a21ef6c2458335e6f86e24"
COMMIT_B = "ec42e6072eb39d06e05f49ced6fcd19dd99e3e39"
TINY = RealSet("tinyset", "three generated originals", trim_silence=True)
FAST = dict(backoff=0, retries=1, timeout=10, progress=False)


def _originals() -> dict[str, tuple[ManifestRow, bytes]]:
    """Four originals as real repositories hold them: 16 kHz WAV with digital silence at both ends,
    44.1 kHz stereo Ogg, 22.05 kHz MP3, a clipping-loud 48 kHz FLAC; odd characters in paths."""
    sp = np.concatenate([np.zeros(3200), tone(0.6, 16000, 220, seed=1).astype(np.float64), np.zeros(800)])
    items = {
        "speech": ("alice/speech-samples", COMMIT_A, "clips/a b's (1).wav", "train",
                   audio_bytes(sp, 16000, "WAV", "PCM_16"), "CC BY 4.0 (Alice Example)"),
        "music": ("bob/songs", COMMIT_B, "songs/Let's Go (live).hq.ogg", "test",
                  audio_bytes(tone(0.7, 44100, 440, seed=2, channels=2), 44100, "OGG", "VORBIS"),
                  "CC BY 3.0 (Bob Example)"),
        "noise": ("carol/sfx", COMMIT_A, "public/sfx/rain.mp3", "train",
                  audio_bytes(tone(0.5, 22050, 900, seed=3), 22050, "MP3", "MPEG_LAYER_III"), "CC0 1.0"),
        "loud": ("carol/sfx", COMMIT_A, "public/sfx/thunder.flac", "test",
                 audio_bytes(np.clip(3 * tone(0.4, 48000, 1500, seed=4), -1, 1), 48000, "FLAC", "PCM_24"),
                 "CC0 1.0"),
    }
    out = {}
    for key, (repo, commit, path, split, data, lic) in items.items():
        track = "noise" if key == "loud" else key
        x, sr = sf.read(io.BytesIO(data), always_2d=True)
        seconds = convert_audio(x, sr, trim_silence=True).size / 16000
        row = ManifestRow(file=f"{split}/{track}/{repo.split('/')[1]}__{Path(path).stem}.flac", track=track,
                          split=split, seconds=round(seconds, 2), repo=repo, path=path, licence=lic,
                          commit=commit, sha256=sha256(data), group=key)
        out[key] = (row, data)
    return out


@pytest.fixture(scope="module")
def originals():
    return _originals()


@pytest.fixture
def server():
    s = RangeServer()
    yield s
    s.close()


def _serve(server: RangeServer, originals, skip=(), prefix: str = "") -> None:
    for key, (row, data) in originals.items():
        if key not in skip:
            server.add(raw_url(row.repo, row.commit, row.path, prefix).lstrip("/"), data)


def _manifest(tmp_path: Path, originals, **replace) -> Path:
    rows = [row if key not in replace else replace[key] for key, (row, _) in originals.items()]
    return write_manifest(rows, tmp_path / "MANIFEST.tsv")


def _mirror(root: Path, originals) -> Path:
    for row, data in originals.values():
        p = mirror_path(root, row)
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data)
    return root


def _samples(path: Path) -> np.ndarray:
    return sf.read(str(path), dtype="int16")[0]


# --------------------------------------------------------------------------------------------
def test_raw_url_uses_repo_commit_and_quoted_path():
    url = raw_url("librosa/librosa-data", COMMIT_B, "audio/Karissa_Hobbs_-_Let's_Go_Fishin'.hq.ogg")
    assert url == (f"https://raw.githubusercontent.com/librosa/librosa-data/{COMMIT_B}/"
                   "audio/Karissa_Hobbs_-_Let%27s_Go_Fishin%27.hq.ogg")
    assert raw_url("o/r", "c" * 40, "a dir/x (1)#.wav", base_url="http://127.0.0.1:9/m/") == \
        "http://127.0.0.1:9/m/o/r/" + "c" * 40 + "/a%20dir/x%20%281%29%23.wav"
    row = ManifestRow("train/speech/x.flac", "speech", "train", 1.0, "o/r", "a dir/x.wav", "CC0", "c" * 40, "0" * 64)
    assert mirror_path("/m", row) == Path("/m/o/r", "c" * 40, "a dir/x.wav")


@pytest.mark.parametrize("name", list(REAL_SETS))
def test_shipped_manifests_parse_and_are_complete(name):
    rs = get_real_set(name)
    assert rs.manifest.stat().st_size < 1 << 20 and (rs.folder / "README.md").exists()
    rows = rs.rows()
    assert len(rows) == {"realmini": 273, "realmore": 346}[name]
    assert len({r.file for r in rows}) == len(rows)
    for r in rows:
        assert r.track in TRACKS and r.split in ("train", "test")
        assert re.fullmatch(r"[\w.-]+/[\w.-]+", r.repo) and r.path and r.licence
        assert re.fullmatch(r"[0-9a-f]{40}", r.commit), r  # full commits: raw URLs resolve
        assert re.fullmatch(r"[0-9a-f]{64}", r.sha256), r
        assert r.file.startswith(f"{r.split}/{r.track}/") and r.seconds > 0
    assert {r.track for r in rows} == set(TRACKS)


def test_manifest_errors_name_the_line(tmp_path, originals):
    row = originals["speech"][0]
    bad = _manifest(tmp_path, originals, speech=ManifestRow(**{**row.__dict__, "commit": "4e69bf1a29"}))
    with pytest.raises(ManifestError, match=r"MANIFEST.tsv:2: source_commit '4e69bf1a29'"):
        read_manifest(bad)


@pytest.mark.skipif(not SHARED.is_dir(), reason="../shared/data not present")
@pytest.mark.parametrize("name", list(REAL_SETS))
def test_shipped_manifests_are_the_shared_ones(name):
    rs = get_real_set(name)
    for f in rs.folder.iterdir():
        assert f.read_bytes() == (SHARED / name / f.name).read_bytes(), f.name
    for r in rs.rows():  # the manifest's seconds are the shared files' durations
        assert abs(sf.info(str(SHARED / name / r.file)).duration - r.seconds) <= 0.0051, r.file


# --------------------------------------------------------------------------------------------
def test_fetch_verify_convert_over_http(tmp_path, server, originals):
    _serve(server, originals)
    out = build_real_set(TINY, tmp_path / "out", manifest=_manifest(tmp_path, originals),
                         cache=tmp_path / "cache", base_url=server.base_url, **FAST)
    rows = {k: r for k, (r, _) in originals.items()}
    for key, row in rows.items():
        info = sf.info(str(out / row.file))
        assert (info.samplerate, info.channels, info.subtype, info.format) == (16000, 1, "PCM_16", "FLAC")
        assert abs(info.duration - row.seconds) <= 0.005
        assert mirror_path(originals_cache(tmp_path / "cache"), row).read_bytes() == originals[key][1]
    # 16 kHz PCM-16 original: the same samples, less the digital silence at both ends
    src = sf.read(io.BytesIO(originals["speech"][1]), dtype="int16")[0]
    np.testing.assert_array_equal(_samples(out / rows["speech"].file), src[3200:-800])
    # 44.1 kHz stereo: channel mean, soxr HQ to 16 kHz, within one PCM-16 step
    x, sr = sf.read(io.BytesIO(originals["music"][1]))
    ref = soxr.resample(x.mean(axis=1), sr, 16000, quality="HQ")
    ref = ref[np.flatnonzero(np.abs(ref) >= 1e-4)[0]:][: len(_samples(out / rows["music"].file))]
    got = sf.read(str(out / rows["music"].file))[0]
    assert np.max(np.abs(got - ref)) < 2 / 32768
    # clipping-loud original: scaled to a 0.99 peak
    assert np.abs(_samples(out / rows["loud"].file)).max() == round(0.99 * 32768)
    assert (out / "MANIFEST.tsv").read_bytes() == (tmp_path / "MANIFEST.tsv").read_bytes()
    assert (out / ".complete").exists() and (out / "ATTRIBUTION.md").exists()
    assert not list((tmp_path / "cache").rglob("*.part")) and not list(out.rglob("*.tmp*"))


def test_attribution_lists_every_repository_commit_and_licence(tmp_path, originals):
    out = build_real_set(TINY, tmp_path / "out", manifest=_manifest(tmp_path, originals),
                         mirror=_mirror(tmp_path / "mirror", originals), progress=False)
    text = (out / "ATTRIBUTION.md").read_text()
    for row, _ in originals.values():
        assert f"https://github.com/{row.repo}/tree/{row.commit}" in text
        assert row.licence in text and f"`{row.path}` → `{row.file}`" in text
    assert "trimmed" in text and "resampled to 16 kHz" in text  # CC BY: say what was changed


def test_checksum_mismatch_fails_naming_the_file(tmp_path, server, originals):
    _serve(server, originals)
    music = originals["music"][0]
    wrong = ManifestRow(**{**music.__dict__, "sha256": hashlib.sha256(b"another version").hexdigest()})
    with pytest.raises(ChecksumError) as e:
        build_real_set(TINY, tmp_path / "out", manifest=_manifest(tmp_path, originals, music=wrong),
                       cache=tmp_path / "cache", base_url=server.base_url, **FAST)
    assert music.file in str(e.value) and music.repo in str(e.value)
    out = tmp_path / "out"
    assert not (out / music.file).exists() and not (out / ".complete").exists()
    assert (out / originals["speech"][0].file).exists()  # the others are kept for the rerun
    bad = mirror_path(originals_cache(tmp_path / "cache"), music)
    assert not bad.exists() and bad.with_name(bad.name + ".corrupt").exists()


def test_mirror_builds_the_same_output_without_a_server(tmp_path, server, originals):
    manifest = _manifest(tmp_path, originals)
    _serve(server, originals)
    web = build_real_set(TINY, tmp_path / "web", manifest=manifest, cache=tmp_path / "cache",
                         base_url=server.base_url, **FAST)
    server.close()
    mirror = _mirror(tmp_path / "mirror", originals)
    local = build_real_set(TINY, tmp_path / "local", manifest=manifest, mirror=mirror, progress=False)
    for row, _ in originals.values():
        np.testing.assert_array_equal(_samples(local / row.file), _samples(web / row.file))
    # the download cache has the mirror layout: it can serve as one
    again = build_real_set(TINY, tmp_path / "again", manifest=manifest,
                           mirror=originals_cache(tmp_path / "cache"), progress=False)
    assert sorted(p.name for p in again.rglob("*.flac")) == sorted(p.name for p in web.rglob("*.flac"))

    speech = originals["speech"][0]
    mirror_path(mirror, speech).write_bytes(b"changed")
    with pytest.raises(ChecksumError, match=re.escape(speech.file)):
        build_real_set(TINY, tmp_path / "bad", manifest=manifest, mirror=mirror, progress=False)
    mirror_path(mirror, speech).unlink()
    with pytest.raises(DownloadError, match="not in the mirror"):
        build_real_set(TINY, tmp_path / "bad", manifest=manifest, mirror=mirror, progress=False)


def test_rerun_resumes_and_skips_verified_files(tmp_path, server, originals):
    manifest = _manifest(tmp_path, originals)
    _serve(server, originals)
    kw = dict(manifest=manifest, cache=tmp_path / "cache", base_url=server.base_url, **FAST)
    out = build_real_set(TINY, tmp_path / "out", **kw)
    n = len(server.requests)
    assert n == len(originals)
    build_real_set(TINY, out, **kw)
    assert len(server.requests) == n  # complete: no request

    speech, music = originals["speech"][0], originals["music"][0]
    kept = (out / speech.file).stat().st_mtime_ns
    (out / ".complete").unlink()
    (out / music.file).unlink()
    cached = mirror_path(originals_cache(tmp_path / "cache"), music)
    cached.unlink()
    part = cached.with_name(cached.name + ".part")
    part.write_bytes(originals["music"][1][:1000])  # an interrupted earlier download
    build_real_set(TINY, out, **kw)
    assert server.requests[n:] == [(raw_url(music.repo, music.commit, music.path, ""), "bytes=1000-")]
    assert (out / speech.file).stat().st_mtime_ns == kept and (out / ".complete").exists()
    assert cached.read_bytes() == originals["music"][1]


def test_git_lfs_pointer_is_followed_to_the_media_address(tmp_path, server, originals):
    row, data = originals["music"]
    pointer = (f"version https://git-lfs.github.com/spec/v1\noid sha256:{row.sha256}\n"
               f"size {len(data)}\n").encode()
    _serve(server, originals, skip=("music",), prefix="raw")
    server.add(raw_url(row.repo, row.commit, row.path, "raw").lstrip("/"), pointer)
    server.add(raw_url(row.repo, row.commit, row.path, "media").lstrip("/"), data)
    out = build_real_set(TINY, tmp_path / "out", manifest=_manifest(tmp_path, originals),
                         cache=tmp_path / "cache", base_url=server.url("raw"), lfs_base_url=server.url("media"),
                         **FAST)
    assert (out / row.file).exists()
    cached = mirror_path(originals_cache(tmp_path / "cache"), row)
    assert cached.read_bytes() == data and not cached.with_name(cached.name + ".corrupt").exists()


def test_command_line_builds_from_a_mirror(tmp_path, originals, capsys):
    manifest = _manifest(tmp_path, originals)
    mirror = _mirror(tmp_path / "mirror", originals)
    out = tmp_path / "out"
    assert main(["fetch-real", "realmini", "--manifest", str(manifest), "--mirror", str(mirror),
                 "--out", str(out), "--no-progress"]) == 0
    assert "ready at" in capsys.readouterr().out
    assert all((out / r.file).exists() for r, _ in originals.values())
    mirror_path(mirror, originals["noise"][0]).write_bytes(b"x")
    assert main(["fetch-real", "realmini", "--manifest", str(manifest), "--mirror", str(mirror),
                 "--out", str(tmp_path / "out2"), "--no-progress"]) == 1
    assert originals["noise"][0].file in capsys.readouterr().err


# --------------------------------------------------------------------------------------------
@pytest.mark.skipif(not SHARED.is_dir(), reason="../shared/data not present")
def test_conversion_reproduces_the_shared_folders(tmp_path):
    """Originals that are 16 kHz PCM-16 WAV can be rebuilt byte for byte from the shared FLACs (their
    SHA-256 equals the manifest's: they *are* the originals). Converting them must give the shared
    samples exactly: 227 realmini files (untrimmed) and one realmore file (trimmed set)."""
    counts = {}
    for name, rs in REAL_SETS.items():
        rows = []
        for r in rs.rows():
            if not r.path.endswith(".wav"):
                continue
            buf = io.BytesIO()
            sf.write(buf, _samples(SHARED / name / r.file), 16000, format="WAV", subtype="PCM_16")
            if sha256(buf.getvalue()) == r.sha256:
                p = mirror_path(tmp_path / "mirror", r)
                p.parent.mkdir(parents=True, exist_ok=True)
                p.write_bytes(buf.getvalue())
                rows.append(r)
        out = build_real_set(rs, tmp_path / name, manifest=write_manifest(rows, tmp_path / f"{name}.tsv"),
                             mirror=tmp_path / "mirror", progress=False)
        for r in rows:
            np.testing.assert_array_equal(_samples(out / r.file), _samples(SHARED / name / r.file), err_msg=r.file)
        counts[name] = len(rows)
    assert counts == {"realmini": 227, "realmore": 1}


def test_own_manifest_brings_the_sets_readme(tmp_path, originals):
    class Set(RealSet):
        @property
        def folder(self) -> Path:
            return tmp_path / "manifests" / self.name

    rs = Set("tinyset", "three generated originals", trim_silence=True)
    rs.folder.mkdir(parents=True)
    _manifest(rs.folder, originals)
    (rs.folder / "README.md").write_text("# tinyset\n")
    out = build_real_set(rs, tmp_path / "out", mirror=_mirror(tmp_path / "mirror", originals), progress=False)
    assert (out / "README.md").read_text() == "# tinyset\n"
    assert "# tinyset — licences and attribution" in (out / "ATTRIBUTION.md").read_text()
