"""Offline stand-ins for the real corpora: a loopback HTTP server and tiny fabricated archives.

``RangeServer`` serves bytes from memory on 127.0.0.1 (random free port) with HTTP Range support
(the standard ``SimpleHTTPRequestHandler`` has none), and can misbehave on purpose: drop the
connection after N bytes the first time, ignore Range headers, or answer 404.

``make_*`` functions write small archives laid out like each real corpus (same folder and file
names, same sample rates and channel counts, seconds instead of hours) and return their bytes.
"""
from __future__ import annotations

import csv
import hashlib
import io
import tarfile
import threading
import zipfile
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import soundfile as sf


# --------------------------------------------------------------------------------------------
# HTTP server with Range support and fault injection
# --------------------------------------------------------------------------------------------

@dataclass
class Route:
    data: bytes
    drop_after: int | None = None   # close the connection after this many body bytes ...
    drop_times: int = 1             # ... on this many requests
    ignore_range: bool = False      # answer 200 with the whole body to range requests
    status: int = 200               # e.g. 404 to exercise mirrors


@dataclass
class RangeServer:
    routes: dict[str, Route] = field(default_factory=dict)
    requests: list[tuple[str, str | None]] = field(default_factory=list)  # (path, Range header)

    def __post_init__(self):
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # keep pytest output clean
                pass

            def do_GET(self):
                rng = self.headers.get("Range")
                server.requests.append((self.path, rng))
                route = server.routes.get(self.path)
                if route is None or route.status == 404:
                    self.send_error(404)
                    return
                data, start = route.data, 0
                if rng and not route.ignore_range and rng.startswith("bytes="):
                    start = int(rng[6:].split("-")[0])
                    if start >= len(data):
                        self.send_response(416)
                        self.send_header("Content-Range", f"bytes */{len(data)}")
                        self.send_header("Content-Length", "0")
                        self.end_headers()
                        return
                    self.send_response(206)
                    self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
                else:
                    self.send_response(200)
                body = data[start:]
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Accept-Ranges", "none" if route.ignore_range else "bytes")
                self.end_headers()
                if route.drop_after is not None and route.drop_times > 0:
                    route.drop_times -= 1
                    cut = max(0, route.drop_after - start)
                    self.wfile.write(body[:cut])
                    self.wfile.flush()
                    self.close_connection = True
                    return
                self.wfile.write(body)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.02},
                                       daemon=True)
        self.thread.start()

    @property
    def base_url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}"

    def url(self, name: str) -> str:
        return f"{self.base_url}/{name}"

    def add(self, name: str, data: bytes, **kwargs) -> str:
        self.routes["/" + name] = Route(data, **kwargs)
        return self.url(name)

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def md5(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# --------------------------------------------------------------------------------------------
# Audio and archives laid out like the real corpora
# --------------------------------------------------------------------------------------------

def tone(seconds: float, sr: int, freq: float, seed: int, channels: int = 1) -> np.ndarray:
    """A recognisable test signal: a tone plus a little seeded noise, ``[T]`` or ``[T, C]``."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(round(seconds * sr))) / sr
    x = 0.3 * np.sin(2 * np.pi * freq * t) + 0.02 * rng.standard_normal(t.size)
    if channels == 1:
        return x.astype(np.float32)
    # Other channels get a different tone, so "left channel" and "mean" give different signals.
    cols = [x] + [0.3 * np.sin(2 * np.pi * (freq * 1.5 + 100 * c) * t) for c in range(1, channels)]
    return np.stack(cols, axis=1).astype(np.float32)


def audio_bytes(x: np.ndarray, sr: int, fmt: str = "WAV", subtype: str = "PCM_16") -> bytes:
    buf = io.BytesIO()
    sf.write(buf, x, sr, format=fmt, subtype=subtype)
    return buf.getvalue()


def tar_bytes(files: dict[str, bytes], mode: str = "w:gz") -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode=mode) as t:
        for name, data in sorted(files.items()):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            t.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def zip_bytes(files: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name, data in sorted(files.items()):
            z.writestr(name, data)
    return buf.getvalue()


def make_librispeech(subset: str = "dev-clean", speakers=(84, 174, 251, 422), utts: int = 3,
                     seconds: float = 1.3) -> bytes:
    """``LibriSpeech/<subset>/<spk>/<chapter>/<spk>-<chapter>-<utt>.flac`` (16 kHz FLAC)."""
    files = {f"LibriSpeech/{subset}/README.TXT": b"fabricated"}
    for s in speakers:
        for u in range(utts):
            x = tone(seconds, 16000, 200 + s, seed=s * 100 + u)
            files[f"LibriSpeech/{subset}/{s}/{s}0/{s}-{s}0-{u:04d}.flac"] = audio_bytes(x, 16000, "FLAC")
    return tar_bytes(files)


AISHELL_SPEAKERS = {"train": ("S0002", "S0003", "S0004"), "dev": ("S0724",), "test": ("S0764",)}


def make_aishell1(utts: int = 3, seconds: float = 1.2) -> bytes:
    """``data_aishell/wav/<spk>.tar.gz`` each holding ``<split>/<spk>/BAC009<spk>W<n>.wav``."""
    files = {"data_aishell/transcript/aishell_transcript_v0.8.txt": b"fabricated"}
    for split, speakers in AISHELL_SPEAKERS.items():
        for spk in speakers:
            inner = {f"{split}/{spk}/BAC009{spk}W{n:04d}.wav":
                     audio_bytes(tone(seconds, 16000, 300 + int(spk[1:]) % 200, seed=n + int(spk[1:])), 16000)
                     for n in range(utts)}
            files[f"data_aishell/wav/{spk}.tar.gz"] = tar_bytes(inner)
    return tar_bytes(files)


DSD_SONGS = {"Dev": ("051 - AM Contra - Heart Peripheral", "052 - Angels In Amplifiers - I'm Alright"),
             "Test": ("001 - ANiMAL - Clinic A", "002 - ANiMAL - Rockshow")}


def make_dsd100(root: str = "DSD100", seconds: float = 2.5) -> bytes:
    """``<root>/Mixtures/{Dev,Test}/<song>/mixture.wav`` (44.1 kHz stereo) + a source stem."""
    files = {}
    for k, (sub, songs) in enumerate(DSD_SONGS.items()):
        for j, song in enumerate(songs):
            x = tone(seconds, 44100, 500 + 40 * (2 * k + j), seed=2 * k + j, channels=2)
            files[f"{root}/Mixtures/{sub}/{song}/mixture.wav"] = audio_bytes(x, 44100)
            files[f"{root}/Sources/{sub}/{song}/vocals.wav"] = audio_bytes(x, 44100)
    return zip_bytes(files)


def make_dns_noise(n: int = 9, seconds: float = 0.7) -> bytes:
    """``datasets/noise/<name>.wav`` (16 kHz mono) in a ``.tar.bz2``."""
    kinds = ("door", "dog", "traffic")
    files = {f"datasets/noise/{kinds[i % 3]}_Freesound_validated_{1000 + i}.wav":
             audio_bytes(tone(seconds, 16000, 900 + 10 * i, seed=50 + i), 16000) for i in range(n)}
    return tar_bytes(files, "w:bz2")


def make_musan(n_music: int = 4, n_noise: int = 6, seconds: float = 1.6) -> bytes:
    """``musan/{music/fma,noise/free-sound,speech/librivox}/...`` (16 kHz mono)."""
    files = {"musan/README": b"fabricated"}
    for i in range(n_music):
        files[f"musan/music/fma/music-fma-{i:04d}.wav"] = audio_bytes(tone(seconds, 16000, 440 + 20 * i, 70 + i), 16000)
    for i in range(n_noise):
        files[f"musan/noise/free-sound/noise-free-sound-{i:04d}.wav"] = audio_bytes(
            tone(seconds / 2, 16000, 1500 + 20 * i, 90 + i), 16000)
    files["musan/speech/librivox/speech-librivox-0000.wav"] = audio_bytes(tone(1.0, 16000, 150, 99), 16000)
    return tar_bytes(files)


ESC50_ROWS = [  # filename, fold, target, category, src_file
    ("1-100032-A-0.wav", 1, 0, "dog", "100032"),
    ("1-100032-B-0.wav", 1, 0, "dog", "100032"),
    ("1-115545-A-48.wav", 1, 48, "fireworks", "115545"),
    ("2-102414-A-17.wav", 2, 17, "pouring_water", "102414"),
    ("3-141240-A-44.wav", 3, 44, "engine", "141240"),
    ("4-157297-A-20.wav", 4, 20, "crying_baby", "157297"),
    ("5-200334-A-1.wav", 5, 1, "rooster", "200334"),
    ("5-9032-A-0.wav", 5, 0, "dog", "9032"),
]


def make_esc50(seconds: float = 0.6) -> bytes:
    """``ESC-50-master/{audio/*.wav, meta/esc50.csv}`` (44.1 kHz mono) in a zip."""
    files = {}
    meta = io.StringIO()
    w = csv.writer(meta)
    w.writerow(["filename", "fold", "target", "category", "esc10", "src_file", "take"])
    for k, (name, fold, target, cat, src) in enumerate(ESC50_ROWS):
        w.writerow([name, fold, target, cat, "False", src, name.split("-")[2]])
        files[f"ESC-50-master/audio/{name}"] = audio_bytes(tone(seconds, 44100, 700 + 30 * k, 120 + k), 44100)
    files["ESC-50-master/meta/esc50.csv"] = meta.getvalue().encode()
    return zip_bytes(files)


def write_official_tree(root: Path, split: str, n: int, seconds: float = 0.5, sr: int = 16000,
                        wrap: int | None = None) -> None:
    """An official-layout split (int16, like ``mix_data.py``); item ``wrap`` gets an overflowing,
    wrapped mixture sample the way the official writer produced one."""
    for i in range(n):
        s = tone(seconds, sr, 200 + 10 * i, seed=i)
        m = 0.5 * tone(seconds, sr, 600 + 10 * i, seed=100 + i)
        z = 0.2 * tone(seconds, sr, 1200, seed=200 + i)
        mix = s + m + z
        if i == wrap:
            mix = mix.copy()
            mix[10] = 1.2  # int16(1.2 * 32768) wraps to a large negative value
        for name, x in (("mixture", mix), ("speech", s), ("music", m), ("noise", z)):
            d = root / split / name / f"{name}{i}"
            d.mkdir(parents=True, exist_ok=True)
            data = np.array(x * 32768, dtype=np.int64)
            data = ((data + 32768) % 65536 - 32768).astype(np.int16)  # wrap, as numpy int16 casts did
            sf.write(d / f"{name}_{i}.wav", data, sr, subtype="PCM_16")
