#!/usr/bin/env python3
"""Binary-size matrix: builds the `vm` binary for a list of compositions, each with
the command line's optional parts (`cli-full`: text format, config file, `vm wast`,
JSON, clap, `vm new-plugin`) and without them, in the release profile (stripped) and
the size-optimized `release-small` profile, and prints the sizes.

    python3 benches/sizes.py                      # print the table
    python3 benches/sizes.py --only minimal       # the rows whose name starts so
    python3 benches/sizes.py --update-features    # also rewrite the table in features.md

Each composition builds in a target directory of its own (`target/sizes/<name>`), so
switching features does not rebuild the others.
"""

import argparse
import datetime
import os
import re
import subprocess
import sys
from pathlib import Path

from features_block import replace_block

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "target" / "sizes"


def engines():
    text = (ROOT / "vm-bin" / "Cargo.toml").read_text()
    return sorted(set(re.findall(r"^(engine-[a-z0-9-]+)\s*=", text, re.M)))


def combos():
    """(name, plugin features or None for vm-bin's default plugins)."""
    rows = [("minimal (no WASI)", "engine-interp,virt-host"),
            ("default", "engine-cranelift,virt-host,host-wasi,simd-sse41")]
    for e in engines():
        rows.append((f"{e} + virt-host + host-wasi", f"{e},virt-host,host-wasi"))
    return rows


def slug(name):
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


def build(profile, name, features):
    target = OUT / slug(name)
    cmd = ["cargo", "build", "-q", "-p", "vm-bin", "--profile", profile, "--target-dir", str(target),
           "--no-default-features", "--features", features]
    env = dict(os.environ, CARGO_PROFILE_RELEASE_STRIP="true")
    subprocess.run(cmd, cwd=ROOT, check=True, env=env)
    return (target / profile / "vm").stat().st_size


def kib(n):
    return f"{n / 1024:.0f} KiB"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--update-features", action="store_true")
    ap.add_argument("--only", metavar="PREFIX", help="only the compositions whose name starts so")
    a = ap.parse_args()
    lines = ["| composition | features | release (stripped) | release-small (stripped) |",
             "|---|---|---:|---:|"]
    for name, feats in combos():
        if a.only and not name.startswith(a.only):
            continue
        for extra, label in ((",cli-full", "with `cli-full`"), ("", "without `cli-full`")):
            sizes = []
            for profile in ("release", "release-small"):
                print(f"building {name}, {label} ({profile})", file=sys.stderr, flush=True)
                sizes.append(build(profile, name, feats + extra))
            lines.append(f"| {name}, {label} | `{feats + extra}` | {kib(sizes[0])} | {kib(sizes[1])} |")
    table = "\n".join(lines)
    print(table)
    if a.update_features:
        date = datetime.date.today().isoformat()
        only = f" --only '{a.only}'" if a.only else ""
        replace_block("sizes", f"Measured {date} with `python3 benches/sizes.py{only}` "
                      f"(x86_64 Linux, rustc {rustc_version()}; `--no-default-features "
                      f"--features` as shown; 1 KiB = 1024 bytes).\n\n{table}")
        print("features.md updated", file=sys.stderr)


def rustc_version():
    out = subprocess.run(["rustc", "--version"], capture_output=True, text=True).stdout.split()
    return out[1] if len(out) > 1 else "?"


if __name__ == "__main__":
    main()
