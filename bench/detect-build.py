#!/usr/bin/env python3
"""Builds every hostile corpus sample into the archive it describes, for bench/detect.

usage: detect-build.py CORPUS_DIR OUT_DIR

CORPUS_DIR holds hostile/<id>/sample.toml and hostile/<id>/files/ (see the
corpus README). Each sample becomes one valid wheel (METADATA, WHEEL, RECORD
with correct hashes, entry_points.txt when the sample declares entry points)
or one sdist (PKG-INFO in a single top-level directory), named
`wcs-<id>` 0.1.0 so the archive name says nothing about the technique. Member
times are fixed, so the same corpus gives the same bytes. OUT_DIR gets the
archives and manifest.json: one entry per sample with its label, archive path
and the archive members that carry the technique.

Nothing in a sample is imported or run: files are copied as bytes.
"""
import base64
import gzip
import hashlib
import io
import json
import os
import re
import sys
import tarfile
import tomllib
import zipfile

VERSION = "0.1.0"
EPOCH = (2020, 1, 1, 0, 0, 0)
EPOCH_TS = 1577836800
REQUIRED = ("technique", "verdict", "kind", "runs", "where", "origin", "source", "summary")
RUNS = {"import", "install", "pth", "entry-point", "call"}


def normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "_", name).lower()


def read_tree(root: str) -> list[tuple[str, bytes]]:
    files = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for n in sorted(filenames):
            p = os.path.join(dirpath, n)
            rel = os.path.relpath(p, root).replace(os.sep, "/")
            with open(p, "rb") as f:
                files.append((rel, f.read()))
    return files


def metadata(name: str, summary: str, header: str = "Metadata-Version: 2.1") -> bytes:
    return f"{header}\nName: {name}\nVersion: {VERSION}\nSummary: {summary}\n".encode()


def build_wheel(name: str, sample: dict, files: list[tuple[str, bytes]], out_dir: str) -> tuple[str, dict]:
    base = f"{normalize(name)}-{VERSION}"
    dist_info = f"{base}.dist-info"
    members = list(files)
    eps = sample.get("entry_points") or {}
    if eps:
        text = ""
        for group in sorted(eps):
            text += f"[{group}]\n" + "".join(f"{k} = {v}\n" for k, v in sorted(eps[group].items())) + "\n"
        members.append((f"{dist_info}/entry_points.txt", text.encode()))
    members.append((f"{dist_info}/METADATA", metadata(name, sample["summary"])))
    members.append((f"{dist_info}/WHEEL", b"Wheel-Version: 1.0\nGenerator: wharf-detect-build\nRoot-Is-Purelib: true\nTag: py3-none-any\n"))
    record = ""
    for path, data in members:
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        record += f"{path},sha256={digest},{len(data)}\n"
    record += f"{dist_info}/RECORD,,\n"
    members.append((f"{dist_info}/RECORD", record.encode()))
    filename = f"{base}-py3-none-any.whl"
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for path, data in members:
            info = zipfile.ZipInfo(path, EPOCH)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            z.writestr(info, data)
    with open(os.path.join(out_dir, filename), "wb") as f:
        f.write(buf.getvalue())
    return filename, {w: w for w in sample["where"]}


def build_sdist(name: str, sample: dict, files: list[tuple[str, bytes]], out_dir: str) -> tuple[str, dict]:
    top = f"{normalize(name)}-{VERSION}"
    members = [(f"{top}/PKG-INFO", metadata(name, sample["summary"]))]
    members += [(f"{top}/{path}", data) for path, data in files if path != "PKG-INFO"]
    filename = f"{top}.tar.gz"
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as t:
        dirs = sorted({"/".join(p.split("/")[:i]) for p, _ in members for i in range(1, p.count("/") + 1)})
        for d in dirs:
            info = tarfile.TarInfo(d)
            info.type, info.mode, info.mtime = tarfile.DIRTYPE, 0o755, EPOCH_TS
            t.addfile(info)
        for path, data in members:
            info = tarfile.TarInfo(path)
            info.size, info.mode, info.mtime = len(data), 0o644, EPOCH_TS
            t.addfile(info, io.BytesIO(data))

    with open(os.path.join(out_dir, filename), "wb") as f:
        f.write(gzip.compress(raw.getvalue(), mtime=0))
    return filename, {w: f"{top}/{w}" for w in sample["where"]}


def main() -> int:
    corpus, out_dir = sys.argv[1], sys.argv[2]
    os.makedirs(out_dir, exist_ok=True)
    hostile = os.path.join(corpus, "hostile")
    manifest, problems = [], []
    for sid in sorted(os.listdir(hostile)):
        sdir = os.path.join(hostile, sid)
        try:
            with open(os.path.join(sdir, "sample.toml"), "rb") as f:
                sample = tomllib.load(f)
        except (OSError, tomllib.TOMLDecodeError) as e:
            problems.append(f"{sid}: sample.toml: {e}")
            continue
        missing = [k for k in REQUIRED if k not in sample]
        if missing:
            problems.append(f"{sid}: sample.toml lacks {', '.join(missing)}")
            continue
        if sample["runs"] not in RUNS or sample["kind"] not in ("wheel", "sdist"):
            problems.append(f"{sid}: runs must be one of {sorted(RUNS)} and kind wheel or sdist")
            continue
        files = read_tree(os.path.join(sdir, "files"))
        paths = {p for p, _ in files}
        absent = [w for w in sample["where"] if w not in paths]
        if absent:
            problems.append(f"{sid}: 'where' names files the sample lacks: {absent}")
            continue
        name = f"wcs-{sid}"
        build = build_wheel if sample["kind"] == "wheel" else build_sdist
        filename, where = build(name, sample, files, out_dir)
        manifest.append({
            "id": sid,
            "file": os.path.join(out_dir, filename),
            "technique": sample["technique"],
            "expected": sample["verdict"],
            "kind": sample["kind"],
            "runs": sample["runs"],
            "where": where,
            "origin": sample["origin"],
            "source": sample["source"],
            "summary": sample["summary"],
        })
    with open(os.path.join(out_dir, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)
    for p in problems:
        print(f"detect-build: {p}", file=sys.stderr)
    print(f"detect-build: {len(manifest)} archives in {out_dir}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
