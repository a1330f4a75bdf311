#!/usr/bin/python3
"""Script test of scripts/cleave_h5.py and `cleave merge`/`cleave report` on files
written by the C store (tests/store_writer). Usage: test_cleave_h5.py BUILD_DIR"""
import hashlib
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cleave_h5  # noqa: E402

failures = 0


def check(cond, what):
    global failures
    if not cond:
        failures += 1
        print("FAILED:", what)


def run(*cmd, ok=True):
    p = subprocess.run(cmd, capture_output=True, text=True)
    if ok and p.returncode != 0:
        print("command failed:", " ".join(cmd), "\n", p.stdout, p.stderr)
        raise SystemExit(1)
    return p


def main():
    build = sys.argv[1]
    writer = os.path.join(build, "tests", "store_writer")
    cleave = os.path.join(build, "cleave")
    with tempfile.TemporaryDirectory() as d:
        base = os.path.join(d, "run.h5")
        files = [run(writer, "sample", base, "--rank", str(r), "--ranks", "2").stdout.strip() for r in (0, 1)]
        check(files == [os.path.join(d, "run.rank0.h5"), os.path.join(d, "run.rank1.h5")], "per-rank names")

        # Per-rank file: strings decoded, dictionary ids resolved, values as written.
        df = cleave_h5.load(files[1], "/profile/summary")
        check(len(df) == 10, "10 rows")
        check(list(df.columns) == ["model", "layer", "name", "median_s", "p90_s", "out_bytes"], "columns")
        check(list(df["model"][:5]) == ["vgg_tiny"] * 5, "rank 1 resolves its first id to vgg_tiny")
        check(df["name"][0] == "vgg_tiny.conv0", "string column decoded")
        want = [1e-3 * (l + 1) * (m + 1) * 2 for m in range(2) for l in range(5)]
        check(all(abs(a - b) < 1e-15 for a, b in zip(df["median_s"], want)), "median_s values")
        check(df.attrs["units"]["median_s"] == "s" and df.attrs["units"]["out_bytes"] == "B", "units")
        raw = cleave_h5.load(files[1], "/profile/summary", resolve=False)
        check(list(raw["model"][:5]) == [0] * 5, "ids kept with resolve=False")

        # Provenance, and our SHA-256 against Python's.
        p = cleave_h5.provenance(files[0])
        check(p.get("seed") == 42, "seed")
        check(p.get("config") == "model: tiny\nseed: 42\n", "config text")
        check(p.get("config_sha256") == hashlib.sha256(p.get("config", "").encode()).hexdigest(), "sha256")
        for k in ("cleave_version", "git_commit", "compiler", "host", "kernel", "cpu_model", "mpi_version",
                  "hdf5_version", "utc_time", "command_line"):
            check(k in p and p[k] != "", "provenance has " + k)
        check(p.get("rank") == 0 and p.get("n_ranks") == 2, "rank attributes")

        # Merge via the CLI, then read the merged file.
        merged = os.path.join(d, "merged.h5")
        run(cleave, "merge", merged, *files)
        m = cleave_h5.load(merged, "/profile/summary")
        check(len(m) == 20 and list(m["src"]) == [0] * 10 + [1] * 10, "merged rows and src")
        check(all(n.startswith(mo + ".") for n, mo in zip(m["name"], m["model"])), "merged ids remapped")
        pm = cleave_h5.provenance(merged)
        check(len(pm.get("sources", [])) == 2 and pm["sources"][1]["rank"] == 1, "sources provenance")
        check(pm.get("seed") == 42, "merged file keeps the run's provenance")
        src = cleave_h5.load(merged, "/merge/sources")
        check(list(src["rank"]) == [0, 1] and list(src["records"]) == [10, 10], "/merge/sources")

        # merge refuses to overwrite without --force and leaves the file alone.
        before = open(merged, "rb").read()
        r = run(cleave, "merge", merged, *files, ok=False)
        check(r.returncode == 2 and "already exists" in r.stderr, "merge without --force refused")
        check(open(merged, "rb").read() == before, "existing output untouched")
        check(run(cleave, "merge", merged, *files, "--force").returncode == 0, "merge --force")
        r = run(cleave, "merge", os.path.join(d, "x.h5"), os.path.join(d, "missing.h5"), ok=False)
        check(r.returncode == 2 and "missing.h5" in r.stderr, "missing input named")

        # report: summary and table views.
        rep = run(cleave, "report", merged).stdout
        check("/profile/summary  20 records" in rep and "[s]" in rep, "report lists tables with units")
        check("per-layer summary of /profile/summary" in rep and "vgg_tiny/4" in rep, "report per-layer summary")
        csv = run(cleave, "report", merged, "--table", "/profile/summary", "--format", "csv").stdout
        lines = csv.strip().split("\n")
        check(lines[0] == "model,layer,name,median_s,p90_s,out_bytes,src" and len(lines) == 21, "report csv")
        check(run(cleave, "report", merged, "--table", "/nope", ok=False).returncode == 2, "report bad table")

        # CLI: tables and plots.
        out = run("/usr/bin/python3", cleave_h5.__file__, "tables", merged).stdout
        check("/profile/summary" in out and "median_s[s]" in out, "tables CLI")
        pdir = os.path.join(d, "plots")
        out = run("/usr/bin/python3", cleave_h5.__file__, "plot-layers", merged, "--out", pdir,
                  "--model", "vgg_tiny").stdout.split()
        check(len(out) == 2, "two plots")
        for fn in out:
            check(os.path.getsize(fn) > 1000 and open(fn, "rb").read(8) == b"\x89PNG\r\n\x1a\n", "PNG " + fn)

        # CLI outputs: never replaced without --force, never partial
        py = ("/usr/bin/python3", cleave_h5.__file__)
        r = run(*py, "plot-layers", merged, "--out", pdir, "--model", "vgg_tiny", ok=False)
        check(r.returncode == 2 and "already exists (use --force" in r.stderr, "plot-layers keeps existing PNGs")
        check(run(*py, "plot-layers", merged, "--out", pdir, "--model", "vgg_tiny", "--force").returncode == 0,
              "plot-layers --force")
        cpath = os.path.join(d, "t.csv")
        with open(cpath, "w") as fh:
            fh.write("old\n")
        r = run(*py, "csv", merged, "/profile/summary", "--out", cpath, ok=False)
        check(r.returncode == 2 and open(cpath).read() == "old\n", "csv --out keeps an existing file")
        run(*py, "csv", merged, "/profile/summary", "--out", cpath, "--force")
        check(open(cpath).read().startswith("model,layer,"), "csv --out --force replaces")
        check(not [x for x in os.listdir(d) if x.startswith("t.csv.")], "no temporary file left")
        r = run(*py, "csv", merged, "/nope", ok=False)
        check(r.returncode == 2 and r.stderr.count("\n") == 1 and "/nope" in r.stderr, "unknown table: one line")

        # hostile files: one line and exit 2 (or a clean read), never a traceback or a signal;
        # the libhdf5 crashes of tests/fuzz/hdf5-known are contained by the child probe
        trunc = os.path.join(d, "trunc.h5")
        with open(merged, "rb") as fh, open(trunc, "wb") as th:
            th.write(fh.read(3000))
        known = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fuzz", "hdf5-known")
        bad = [os.path.join(known, x) for x in sorted(os.listdir(known))] + \
            [trunc, "/dev/null", os.path.join(d, "missing.h5"), d]
        refused = 0
        cmds = [("tables", f) for f in bad] + [("provenance", f) for f in bad[:-3]] + \
            [("csv", f, "/profile/summary") for f in bad[:2] + bad[-4:-2]]
        for cmd in cmds:
            f = cmd[1]
            if True:
                r = run(*py, *cmd, ok=False)
                one = r.stderr.count("\n") == 1 and r.stderr.startswith("cleave_h5.py: error: " + f + ": ")
                check(r.returncode in (0, 2) and "Traceback" not in r.stderr and (r.returncode == 0 or one),
                      "%s %s: rc %d, stderr %r" % (cmd[0], f, r.returncode, r.stderr[-300:]))
                refused += r.returncode == 2
        check(refused >= len(cmds) - 4, "hostile files refused (%d of %d)" % (refused, len(cmds)))
        r = run(*py, "tables", os.path.join(known, "h5f_accum_read_segv.h5"), ok=False)
        check("libhdf5 crashed" in r.stderr, "a libhdf5 crash is named")

        # the analysis scripts share the same front end (cleave_h5.cli)
        here = os.path.dirname(os.path.abspath(__file__))
        for script in ("analyze_adaptive.py", "analyze_coedge.py", "users_table.py"):
            for f in (os.path.join(known, "h5f_accum_read_segv.h5"), "/dev/null", os.path.join(d, "missing.h5"),
                      merged):
                r = run("/usr/bin/python3", os.path.join(here, script), f, ok=False)
                check(r.returncode == 2 and r.stderr.count("\n") == 1 and
                      r.stderr.startswith(script + ": error: ") and f in r.stderr,
                      "%s %s: rc %d, stderr %r" % (script, f, r.returncode, r.stderr[-300:]))
    print("test_cleave_h5: %s" % ("ok" if failures == 0 else "%d failures" % failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
