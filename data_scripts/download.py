#!/usr/bin/env python
"""Download, verify and unpack the real corpora behind MTASS (or an open alternative).

Examples:
  python data_scripts/download.py --list                      # every corpus: size, check, licence
  python data_scripts/download.py --recipe open-mini          # ~1.2 GB: LibriSpeech dev-clean, DSD100 subset, ESC-50
  python data_scripts/download.py --recipe open               # ~11.8 GB: LibriSpeech dev+test-clean, MUSAN
  python data_scripts/download.py --recipe paper              # AISHELL-1 (14.5 GiB), DSD100 (~14 GB), DNS noise
  python data_scripts/download.py librispeech_dev_clean esc50 # named corpora
  python data_scripts/download.py aishell1 --verify-only      # re-hash what is in the cache

Where files go: $MTASS_CACHE (default ~/.cache/mtass_lite): archives/<file> and
extracted/<file stem>/. An interrupted download resumes (HTTP Range) when rerun; a file that does
not match its published md5/sha256 (or size) is moved aside as .corrupt, fetched once more, and
reported if it still does not match -- it is never used. Unpacking is atomic (temporary folder,
then rename). DiDiSpeech cannot be downloaded (apply to DiDi); pass your copy to
prepare_mtass.py with --corpus-dir didispeech=DIR.

Next step: python data_scripts/prepare_mtass.py --recipe <same recipe>  (cuts, splits and mixes).
"""
from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from mtass_lite.data.corpora import (CORPORA, RECIPES, archive_path, corpus_table,  # noqa: E402
                                     fetch_corpus, get_corpus, get_recipe, real_set_table,
                                     recipe_download_size, with_base_url)
from mtass_lite.data.download import (DownloadError, cache_dir, format_bytes,  # noqa: E402
                                      verify_file)


def print_list() -> None:
    print(corpus_table())
    print("\ncheck: md5/sha256 = the publisher's checksum; size = byte count only; "
          "length = nothing published (only the server's Content-Length)")
    print("\nrecipes:")
    for r in RECIPES.values():
        known, complete = recipe_download_size(r)
        more = "" if complete else " + unpublished sizes"
        print(f"  {r.name:<10} {r.description} [{format_bytes(known)}{more}]")
        if r.optional:
            print(f"  {'':<10} optional: {', '.join(r.optional)}")
    print("\nsmall three-track sets fetched file by file from GitHub "
          "(python -m mtass_lite fetch-real NAME; docs/real_data.md):")
    print(real_set_table())
    print(f"\ncache: {cache_dir()}  (set MTASS_CACHE to move it)")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                epilog=__doc__.split("\n", 2)[2],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("corpora", nargs="*", metavar="CORPUS",
                   help=f"corpora to fetch ({', '.join(CORPORA)})")
    p.add_argument("--list", action="store_true", help="print every corpus with size, check and licence")
    p.add_argument("--recipe", choices=list(RECIPES), help="fetch every downloadable corpus of a recipe")
    p.add_argument("--cache", type=Path, default=None, help="cache folder (default: $MTASS_CACHE or ~/.cache/mtass_lite)")
    p.add_argument("--base-url", default=None,
                   help="fetch <BASE_URL>/<archive file name> instead (a local or institutional mirror)")
    p.add_argument("--no-unpack", action="store_true", help="download and verify only")
    p.add_argument("--verify-only", action="store_true",
                   help="check archives already in the cache against their checksums; download nothing")
    p.add_argument("--retries", type=int, default=5, help="retries per URL after a dropped connection (default 5)")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s")

    if args.list:
        print_list()
        return 0
    names = list(args.corpora)
    if args.recipe:
        names += [n for n in get_recipe(args.recipe).required if n not in names]
    if not names:
        p.error("name corpora, or give --recipe or --list")
    failed = []
    for name in names:
        try:
            corpus = get_corpus(name)
        except KeyError as e:
            p.error(str(e.args[0]))
        if args.base_url:
            corpus = with_base_url(corpus, args.base_url)
        if not corpus.downloadable:
            print(f"[manual] {corpus.title}: {corpus.manual}")
            continue
        try:
            if args.verify_only:
                for a in corpus.archives:
                    path = archive_path(a, args.cache)
                    verify_file(path, a.expected, progress=not args.quiet, use_record=False)
                    print(f"[ok] {path} ({a.expected.describe()})")
                continue
            roots = fetch_corpus(corpus, args.cache, unpack=not args.no_unpack, progress=not args.quiet,
                                 retries=args.retries)
            for r in roots:
                print(f"[ok] {corpus.name}: {r}")
        except (DownloadError, OSError) as e:
            print(f"[failed] {corpus.name}: {e}", file=sys.stderr)
            failed.append(name)
    if failed:
        hint = "Download them first." if args.verify_only else "Rerun the same command to resume."
        print(f"\n{len(failed)} failed: {', '.join(failed)}. {hint}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
