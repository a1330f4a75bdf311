#!/usr/bin/python3
"""Read cleave HDF5 record files into pandas (run with /usr/bin/python3).

Library:
    import cleave_h5
    df = cleave_h5.load("run.h5", "/profile/summary")   # pandas.DataFrame
    cleave_h5.units("run.h5", "/profile/summary")        # {"median_s": "s", ...}
    cleave_h5.provenance("run.h5")                       # dict (+ "config" text)
    cleave_h5.tables("run.h5")                           # [(path, n_records), ...]

load() checks the table's stored CRC-32 checksums (verify(); ChecksumError if damaged),
decodes fixed-length string columns to str and replaces dictionary id columns
(int32 fields whose "dicts" attribute names a /strings/<name> table) by the strings,
unless resolve=False. Files left by a killed writer are opened in SWMR-read mode.

CLI:
    cleave_h5.py tables FILE
    cleave_h5.py provenance FILE
    cleave_h5.py csv FILE TABLE [--out OUT.csv] [--force]
    cleave_h5.py plot-layers FILE --out DIR [--table PATH] [--layer-col COL]
                 [--time-col COL] [--bytes-col COL] [--model NAME] [--force]

Like `cleave`, the CLI first reads FILE's metadata in a child process (probe()):
libhdf5 1.10 crashes on some damaged files (tests/fuzz/hdf5-known/), and a file that
kills the child is refused with one line instead of killing the caller. Bad input
(missing, damaged or foreign file, unknown table or column) is one line
"cleave_h5.py: error: FILE: ..." and exit status 2, never a traceback; outputs are
written beside their path and renamed into place, and an existing output is kept
unless --force.
"""
import argparse
import os
import signal
import subprocess
import sys
import tempfile
import warnings
import zlib

import h5py
import numpy as np

LAYER_COLS = ("layer_name", "name", "layer")
DURATION_COLS = ("duration", "time", "seconds", "median", "cpu_time", "latency")
TIME_UNITS = {"s": 1.0, "ms": 1e-3, "us": 1e-6, "ns": 1e-9}


_probe_on_open = False  # set by cli(): commands probe every file before h5py opens it
_probed = set()


def open_file(path):
    """Open read-only; fall back to SWMR read for files of killed writers. Under cli(),
    each file is probed in a child process first and open failures raise BadInput."""
    if _probe_on_open and path not in _probed:
        probe(path)
        _probed.add(path)
    try:
        return h5py.File(path, "r")
    except OSError:
        try:
            return h5py.File(path, "r", swmr=True)
        except OSError as e:
            if not _probe_on_open:
                raise
            raise BadInput("%s: not an HDF5 file, or damaged (%s)" % (path, str(e).splitlines()[0]))


def complete(path):
    """True if the writer closed the file normally, False if not (killed, failed or still
    running: records may be partial), None for files written before the marker."""
    with open_file(path) as f:
        v = f.attrs.get("complete")
        return None if v is None else bool(int(v))


def _s(v):
    return v.decode("utf-8", "replace") if isinstance(v, (bytes, np.bytes_)) else str(v)


def _attr_list(ds, name):
    if name not in ds.attrs:
        return None
    v = ds.attrs[name]
    return [_s(x) for x in np.atleast_1d(v)]


def _is_table(obj):
    return isinstance(obj, h5py.Dataset) and obj.dtype.names is not None and obj.ndim == 1


def tables(path):
    """[(path, n_records)] of every table (1-D compound dataset) in the file."""
    out = []
    with open_file(path) as f:
        def visit(name, obj):
            if _is_table(obj):
                out.append(("/" + name, obj.shape[0]))
        f.visititems(visit)
    return out


def units(path, table):
    """{field: unit} of a table ('' where none)."""
    with open_file(path) as f:
        ds = f[table]
        names = _attr_list(ds, "field_names") or list(ds.dtype.names)
        us = _attr_list(ds, "units") or [""] * len(names)
        return dict(zip(names, us))


def _dict_strings(f, dpath):
    d = f[dpath][:]
    m = {}
    for i, n in zip(d["id"], d["name"]):
        m[int(i)] = _s(n).rstrip("\0")
    return m


class ChecksumError(ValueError):
    """A table's records fail the per-block CRC-32 the writer stored (file damaged)."""


def verify(ds, arr=None):
    """Check a table against its crc32 / crc32_block / crc32_records attributes (written by
    cleave when it closes a file; CRC-32 per block of records, each record's fields packed
    in order). Returns the number of records checked (0 if the table has no checksums);
    raises ChecksumError naming the table and the damaged records."""
    if "crc32" not in ds.attrs:
        return 0
    block, covered = int(ds.attrs["crc32_block"]), int(ds.attrs["crc32_records"])
    sums = np.atleast_1d(ds.attrs["crc32"]).astype(np.uint64)
    if covered > ds.shape[0]:
        raise ChecksumError("table %s is corrupted: it has %d records but was written with %d"
                            % (ds.name, ds.shape[0], covered))
    if block <= 0 or len(sums) != (covered + block - 1) // block:
        raise ChecksumError("table %s is corrupted: its checksum attributes are malformed" % ds.name)
    arr = ds[:covered] if arr is None else arr[:covered]
    packed = np.dtype([(n, arr.dtype.fields[n][0]) for n in arr.dtype.names])
    raw = arr.astype(packed).tobytes()
    step = block * packed.itemsize
    for b, want in enumerate(sums):
        if zlib.crc32(raw[b * step:(b + 1) * step]) != int(want):
            raise ChecksumError("table %s is corrupted: records %d..%d fail their checksum"
                                % (ds.name, b * block, min((b + 1) * block, covered) - 1))
    return covered


def load(path, table, resolve=True, decode=True):
    """Table as a pandas DataFrame (strings decoded, dictionary ids resolved)."""
    with open_file(path) as f:
        if f.attrs.get("complete") is not None and not int(f.attrs["complete"]):
            warnings.warn("%s is incomplete: its writer did not finish (killed, failed or still running); "
                          "records may be partial" % path)
        if table not in f or not _is_table(f[table]):
            raise KeyError("%s has no table %s (tables: %s)" % (path, table,
                           ", ".join(p for p, _ in tables(path))))
        ds = f[table]
        arr = ds[:]
        verify(ds, arr)
        import pandas as pd  # here, not at the top: `tables` and `provenance` start 2x faster

        df = pd.DataFrame({n: arr[n] for n in arr.dtype.names})
        if decode:
            for n in arr.dtype.names:
                if arr.dtype[n].kind == "S":
                    df[n] = [_s(v).rstrip("\0") for v in arr[n]]
        names = _attr_list(ds, "field_names") or []
        dicts = _attr_list(ds, "dicts") or []
        if resolve:
            for n, dp in zip(names, dicts):
                if dp and dp in f and n in df.columns:
                    m = _dict_strings(f, dp)
                    df[n] = [m.get(int(v), None if v < 0 else str(v)) for v in df[n]]
        df.attrs["units"] = dict(zip(names, _attr_list(ds, "units") or []))
        df.attrs["table"] = table
        return df


def provenance(path, group="/provenance"):
    """Attributes of /provenance as a dict, plus "config" (text) if stored, and, for
    merged files, "sources": [dict per input] and "merge": dict."""
    with open_file(path) as f:
        if group not in f:
            return {}
        g = f[group]

        def attrs(obj):
            d = {}
            for k, v in obj.attrs.items():
                if isinstance(v, np.ndarray):
                    d[k] = [_s(x) for x in v] if v.dtype.kind in "SOU" else v.tolist()
                elif isinstance(v, (bytes, np.bytes_)):
                    d[k] = _s(v)
                elif isinstance(v, np.generic):
                    d[k] = v.item()
                else:
                    d[k] = v
            if "config" in obj and isinstance(obj["config"], h5py.Dataset):
                d["config"] = _s(obj["config"][()])
            return d

        p = attrs(g)
        if "sources" in g:
            p["sources"] = [attrs(g["sources"][k]) for k in sorted(g["sources"], key=int)]
        if "merge" in g:
            p["merge"] = attrs(g["merge"])
        return p


def _pick(df, given, candidates, what):
    if given:
        if given not in df.columns:
            raise SystemExit("column %r not in table (columns: %s)" % (given, ", ".join(df.columns)))
        return given
    for c in candidates:
        if c in df.columns:
            return c
    raise SystemExit("no %s column found (tried %s; use the option)" % (what, ", ".join(candidates)))


def _find_profile_table(path):
    for p, n in tables(path):
        if n == 0 or p.startswith("/strings/") or p.startswith("/merge/"):
            continue
        u = units(path, p)
        cols = set(u)
        if cols & set(LAYER_COLS) and any(u.get(c) in TIME_UNITS or "time" in c or c.endswith("_s") for c in cols):
            return p
    raise SystemExit("no table with a layer column and a time column in %s (use --table)" % path)


PLOT_FILES = ("layer_latency.png", "layer_out_bytes.png")


def plot_layers(path, out_dir, table=None, layer_col=None, time_col=None, bytes_col=None, model=None):
    """Per-layer latency bar chart and output-size profile (PNG); returns the file names."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    table = table or _find_profile_table(path)
    df = load(path, table)
    u = df.attrs.get("units", {})
    if model is not None:
        if "model" not in df.columns:
            raise SystemExit("--model given but table %s has no model column" % table)
        df = df[df["model"] == model]
    layer_col = _pick(df, layer_col, LAYER_COLS, "layer")
    # a duration, never a timestamp (start, end, ... are points on the clock)
    stamps = {"start", "end", "ready", "arrival", "release", "finish", "wall_arrival"}
    time_candidates = [c for c in DURATION_COLS if c in df.columns] + \
        [c for c in df.columns if u.get(c) in TIME_UNITS and c not in stamps] + \
        [c for c in df.columns if ("median" in c or "time" in c or c.endswith("_s")) and c not in stamps]
    time_col = _pick(df, time_col, time_candidates, "time")
    bytes_col = _pick(df, bytes_col, [c for c in df.columns if u.get(c) == "B"] +
                      ["out_bytes", "output_bytes", "bytes"], "output-size")
    if df.empty:
        raise SystemExit("table %s has no rows to plot" % table)
    # One bar per layer, in first-appearance order; repeated rows (ranks, runs) -> median.
    order = list(dict.fromkeys(df[layer_col].astype(str)))
    g = df.assign(_l=df[layer_col].astype(str)).groupby("_l", sort=False)
    t = g[time_col].median().reindex(order)
    b = g[bytes_col].median().reindex(order)
    scale = TIME_UNITS.get(u.get(time_col, "s"), 1.0) * 1e3  # -> ms
    os.makedirs(out_dir, exist_ok=True)
    w = max(6.0, 0.25 * len(order) + 2)
    files = []
    fig, ax = plt.subplots(figsize=(w, 4))
    ax.bar(range(len(order)), t.values * scale, color="tab:blue")
    ax.set_ylabel("%s [ms]" % time_col)
    ax.set_title("per-layer latency: %s %s" % (os.path.basename(path), table))
    ax.set_xticks(range(len(order)))
    ax.set_xticklabels(order, rotation=90, fontsize=7)
    fig.tight_layout()
    files.append(os.path.join(out_dir, PLOT_FILES[0]))
    write_atomic(files[-1], lambda tmp: fig.savefig(tmp, dpi=120, format="png"))
    plt.close(fig)
    fig, ax = plt.subplots(figsize=(w, 4))
    ax.plot(range(len(order)), b.values, marker="o", color="tab:orange")
    ax.set_yscale("log")
    ax.set_ylabel("%s [%s]" % (bytes_col, u.get(bytes_col) or "B"))
    ax.set_title("output size profile (candidate cut points)")
    ax.set_xticks(range(len(order)))
    ax.set_xticklabels(order, rotation=90, fontsize=7)
    fig.tight_layout()
    files.append(os.path.join(out_dir, PLOT_FILES[1]))
    write_atomic(files[-1], lambda tmp: fig.savefig(tmp, dpi=120, format="png"))
    plt.close(fig)
    return files


# The child's walk: every object, every attribute name and value, every dataset's type
# (what tables(), units(), load() and provenance() touch before the data itself).
# An error on one object must not end the walk early: only a crash counts.
_PROBE = r"""
import sys, h5py
def attrs(o):
    try:
        for k, v in o.attrs.items():
            pass
    except Exception:
        pass
    try:
        for k in o.attrs.keys():
            try:
                o.attrs[k]
            except Exception:
                pass
    except Exception:
        pass
def visit(name, o):
    try:
        attrs(o)
        if isinstance(o, h5py.Dataset):
            o.dtype, o.shape
        elif "config" in o:
            o["config"]
    except Exception:
        pass
try:
    f = h5py.File(sys.argv[1], "r")
except OSError:
    f = h5py.File(sys.argv[1], "r", swmr=True)
attrs(f)
f.visititems(visit)
"""


class BadInput(Exception):
    """A file or argument the CLI refuses (exit status 2)."""


def probe(path):
    """Read @path's metadata in a child process first. Raises BadInput ("PATH: why") if
    the file is missing or unreadable, or if libhdf5 crashed on it (the caller would have
    crashed); other errors are left to the real read, which reports them."""
    if not os.path.exists(path):
        raise BadInput("%s: no such file" % path)
    if os.path.isdir(path):
        raise BadInput("%s: is a directory, not an HDF5 file" % path)
    if not os.access(path, os.R_OK):
        raise BadInput("%s: not readable" % path)
    # MALLOC_PERTURB_: freed memory is filled, so a use-after-free inside libhdf5 faults in
    # the child whatever the heap held (as cleave's own probe does, runtime/store/probe.c)
    env = dict(os.environ, MALLOC_PERTURB_="165")
    p = subprocess.run([sys.executable, "-c", _PROBE, path], stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, timeout=600, env=env)
    if p.returncode < 0:
        try:
            sig = signal.Signals(-p.returncode).name
        except ValueError:
            sig = "signal %d" % -p.returncode
        raise BadInput("%s: damaged HDF5 file: libhdf5 crashed (%s) reading its metadata; not opened"
                       % (path, sig))


def check_output(path, force):
    """Refuse to replace @path without @force, and never write over a directory
    (BadInput: one line and exit 2 under cli())."""
    if os.path.isdir(path):
        raise BadInput("output %s is a directory (give a file name)" % path)
    if os.path.exists(path) and not force:
        raise BadInput("output file %s already exists (use --force to overwrite)" % path)


def write_atomic(path, write):
    """write(tmp_path) then rename into place: no partial output if killed."""
    d = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=os.path.basename(path) + ".", suffix=os.path.splitext(path)[1], dir=d)
    os.close(fd)
    try:
        write(tmp)
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def _umask():
    m = os.umask(0)
    os.umask(m)
    return m


def main(argv=None):
    ap = argparse.ArgumentParser(prog="cleave_h5.py", description="cleave HDF5 files -> pandas / plots")
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("tables", help="list tables with record counts and units")
    p.add_argument("file")
    p = sub.add_parser("provenance", help="print the provenance")
    p.add_argument("file")
    p = sub.add_parser("csv", help="write one table as CSV (ids resolved)")
    p.add_argument("file")
    p.add_argument("table")
    p.add_argument("--out", default="-")
    p.add_argument("--force", action="store_true", help="replace an existing --out file")
    p = sub.add_parser("plot-layers", help="per-layer latency and output-size PNGs")
    p.add_argument("file")
    p.add_argument("--out", required=True, help="output directory")
    p.add_argument("--table", help="profile table (default: first with layer + time columns)")
    p.add_argument("--layer-col", help="layer column (default: layer_name, name or layer)")
    p.add_argument("--time-col", help="time column (default: first with unit s/ms/us/ns)")
    p.add_argument("--bytes-col", help="output-size column (default: first with unit B, out_bytes)")
    p.add_argument("--model", help="only rows of this model (dictionary-resolved name)")
    p.add_argument("--force", action="store_true", help="replace existing PNGs in --out")
    a = ap.parse_args(argv)
    return cli(lambda: _run(a), "cleave_h5.py", a.file)


def cli(main, prog, file=None):
    """Run @main() as a command over cleave HDF5 files (this module's CLI and the analysis
    scripts): every file is probed in a child process before h5py opens it, and bad input
    (damaged, foreign or missing files, unknown tables or columns, checksum failures,
    types h5py cannot map) ends in one line "PROG: error: ..." and exit status 2 instead
    of a traceback or a crash. @file names the input in messages that lack it."""
    global _probe_on_open
    _probe_on_open = True
    pre = "" if file is None else "%s: " % file
    try:
        r = main()
        return 0 if r is None else r
    except BadInput as e:
        msg = str(e)
        if file is not None and not msg.startswith(pre):
            msg = pre + msg
    except SystemExit as e:  # argparse and the library's own one-line refusals
        if e.code is None or isinstance(e.code, int):
            raise
        msg = pre + str(e.code)
    except ChecksumError as e:
        msg = pre + str(e)
    except KeyError as e:
        msg = pre + (str(e.args[0]) if e.args else "missing item")
    except BrokenPipeError:
        return 0
    except subprocess.CalledProcessError as e:  # a cleave command a script runs (replays)
        err = e.stderr.strip().splitlines() if isinstance(e.stderr, str) and e.stderr.strip() else []
        print("%s: error: '%s' failed with exit status %d%s" % (
            prog, " ".join(map(str, e.cmd[:3])), e.returncode, ": " + err[-1] if err else " (its message is above)"),
            file=sys.stderr)
        return 2 if e.returncode == 2 else 1
    except OSError as e:
        if not e.filename:
            msg = "%scannot read it (%s: %s)" % (pre, type(e).__name__, str(e).splitlines()[0] if str(e) else "")
        else:
            msg = "%s: %s" % (e.filename, e.strerror or e)
    except Exception as e:  # h5py / numpy on a damaged or foreign file
        msg = "%scannot read it (%s: %s)" % (pre, type(e).__name__, str(e).splitlines()[0] if str(e) else "")
    print("%s: error: %s" % (prog, msg), file=sys.stderr)
    return 2


def _run(a):
    if a.cmd == "tables":
        for path, n in tables(a.file):
            u = units(a.file, path)
            cols = ", ".join("%s[%s]" % (k, v) if v else k for k, v in u.items())
            print("%-30s %10d  %s" % (path, n, cols))
    elif a.cmd == "provenance":
        for k, v in provenance(a.file).items():
            if k == "config":
                print("config:\n  " + v.replace("\n", "\n  "))
            else:
                print("%-18s %s" % (k, v))
    elif a.cmd == "csv":
        if a.out != "-":
            check_output(a.out, a.force)

        df = load(a.file, a.table)
        if a.out == "-":
            df.to_csv(sys.stdout, index=False)
        else:
            write_atomic(a.out, lambda tmp: df.to_csv(tmp, index=False))
    elif a.cmd == "plot-layers":
        if os.path.exists(a.out) and not os.path.isdir(a.out):
            raise BadInput("--out %s is a file; plot-layers writes into a directory" % a.out)

        for name in PLOT_FILES:
            check_output(os.path.join(a.out, name), a.force)
        for fn in plot_layers(a.file, a.out, a.table, a.layer_col, a.time_col, a.bytes_col, a.model):
            print(fn)
    return 0


if __name__ == "__main__":
    sys.exit(main())
