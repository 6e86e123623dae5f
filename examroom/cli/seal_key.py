"""``examroom seal-key``: the course seal key's public half, to hand out for ``examroom verify``."""

from __future__ import annotations

from pathlib import Path


def add_parser(sub) -> None:
    seal_key = sub.add_parser("seal-key", help="write the course seal key's public half, to hand out for verify")
    seal_key.add_argument("--data-dir", type=Path, required=True, help="the course's data folder (holds the key)")
    seal_key.add_argument("--out", type=Path, help="PEM file to write (default: print it)")
    seal_key.set_defaults(run=run)


def run(args) -> int:
    from examroom.records.sealing import key_id, load_key, public_pem

    public = load_key(args.data_dir).public_key()
    if args.out is None:
        print(public_pem(public), end="")
    else:
        args.out.write_text(public_pem(public), encoding="utf-8")
        print(f"public key {key_id(public)}: {args.out}")
    return 0
