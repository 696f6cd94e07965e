#!/usr/bin/env python3
"""Binary-size matrix: builds the `vm` binary for a list of feature combinations, in
the release profile (stripped) and the size-optimized `release-small` profile, and
prints the sizes.

    python3 benches/sizes.py                    # print the table
    python3 benches/sizes.py --update-features  # also rewrite the table in features.md
"""

import argparse
import datetime
import os
import re
import shutil
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
    rows = [("minimal (no WASI)", "engine-interp,virt-host"), ("default", None)]
    for e in engines():
        rows.append((f"{e} alone + virt-host + host-wasi", f"{e},virt-host,host-wasi"))
    return rows


def build(profile, features):
    cmd = ["cargo", "build", "-q", "-p", "vm-bin", "--profile", profile, "--target-dir", str(OUT)]
    if features is not None:
        cmd += ["--no-default-features", "--features", features]
    env = dict(os.environ, CARGO_PROFILE_RELEASE_STRIP="true")
    subprocess.run(cmd, cwd=ROOT, check=True, env=env)
    return (OUT / profile / "vm").stat().st_size


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--update-features", action="store_true")
    a = ap.parse_args()
    lines = ["| composition | features | release (stripped) | release-small (opt-level z, fat LTO) |",
             "|---|---|---:|---:|"]
    for name, feats in combos():
        sizes = []
        for profile in ("release", "release-small"):
            print(f"building {name} ({profile})", file=sys.stderr, flush=True)
            sizes.append(build(profile, feats))
        f = feats or "(default)"
        lines.append(f"| {name} | `{f}` | {sizes[0] / 1024:.0f} KiB | {sizes[1] / 1024:.0f} KiB |")
    table = "\n".join(lines)
    print(table)
    if a.update_features:
        date = datetime.date.today().isoformat()
        replace_block("sizes", f"Measured {date} with `python3 benches/sizes.py` "
                      f"(x86_64 Linux, rustc {rustc_version()}).\n\n{table}")
        print("features.md updated", file=sys.stderr)


def rustc_version():
    out = subprocess.run(["rustc", "--version"], capture_output=True, text=True).stdout.split()
    return out[1] if len(out) > 1 else "?"


if __name__ == "__main__":
    main()
