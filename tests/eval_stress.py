#!/usr/bin/env python3
"""eval_stress.py: independent evaluation of `calcspec classify` and the
composition values on SYNTHETIC spectra from tests/stressgen.c (a generator
that shares nothing with src/simulate.c and is never used for training).

    python3 tests/eval_stress.py [--calcspec build/calcspec] [-m MODEL]
        [-n PER_CONDITION] [--seed S] [--quick] [--keep DIR]
        [--no-classify] [--no-composition] [--no-partial] [--no-ftir] [--json FILE]

Builds the generator with cc, writes one file per condition into a scratch
directory (removed at the end unless --keep), runs calcspec and prints
tables.  Standard library only.  Columns calcspec does not print yet are
reported as n/a, so the script keeps working while composition moves into
`classify` (issue 14).
"""
import argparse
import collections
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SUMMARY = collections.OrderedDict()  # headline numbers for --json
MINERALS = ["cod", "com", "ha", "whitlockite", "calcite"]
CLASSES = ["oxalate", "hydroxyapatite", "whitlockite", "calcite", "tissue"]


def die(msg):
    print("eval_stress: " + msg, file=sys.stderr)
    sys.exit(1)


def build_gen(work, cc):
    exe = os.path.join(work, "stressgen")
    cmd = [cc, "-O2", "-std=c11", "-o", exe, os.path.join(HERE, "stressgen.c"), "-lm"]
    if subprocess.call(cmd) != 0:
        die("could not build stressgen: " + " ".join(cmd))
    return exe


class Gen:
    """Writes one file per condition and appends to one truth table."""

    def __init__(self, exe, outdir, seed):
        self.exe, self.outdir, self.seed, self.count = exe, outdir, seed, 0
        os.makedirs(outdir, exist_ok=True)
        self.truth = os.path.join(outdir, "truth.tsv")

    def make(self, name, cls, n, **kw):
        self.count += 1
        path = os.path.join(self.outdir, name + ".csv")
        args = [self.exe, "--class", cls, "-n", str(n),
                "--seed", str(self.seed * 100000 + self.count), "-o", path, "--truth", self.truth]
        for k, v in kw.items():
            args += ["--" + k.replace("_", "-")] + ([] if v is True else [str(v)])
        if subprocess.call(args) != 0:
            die("stressgen failed: " + " ".join(args))
        return path


def read_tsv(path):
    with open(path) as f:
        lines = [l.rstrip("\n") for l in f if l.strip()]
    if not lines:
        return []
    head = lines[0].split("\t")
    return [dict(zip(head, l.split("\t"))) for l in lines[1:]]


def num(v):
    """Float or None (empty, NA, '< LOD', n/a...)."""
    try:
        x = float(v)
    except (TypeError, ValueError):
        return None
    return x if math.isfinite(x) else None


def truth_of(outdir):
    return {(r["file"], int(r["index"])): r for r in read_tsv(os.path.join(outdir, "truth.tsv"))}


def run(cmd, out):
    """Runs cmd with stdout to out, stderr to out.err; (exit, seconds)."""
    with open(out, "w") as f, open(out + ".err", "w") as e:
        t0 = time.time()
        rc = subprocess.call(cmd, stdout=f, stderr=e)
        return rc, time.time() - t0


def classify(calcspec, model, outdir, extra=()):
    out = os.path.join(outdir, "classify.tsv")
    files = sorted(os.path.join(outdir, f) for f in os.listdir(outdir) if f.endswith(".csv"))
    cmd = [calcspec, "classify"] + (["-m", model] if model else []) + list(extra) + files
    rc, dt = run(cmd, out)
    rows = read_tsv(out)
    return rows, rc, dt


def joined(rows, truth):
    got = []
    for r in rows:
        key = (os.path.basename(r["file"]), int(r["index"]))
        if key in truth:
            got.append((truth[key], r))
    return got


def pct(a, b):
    return "%5.1f" % (100.0 * a / b) if b else "  n/a"


# ------------------------------------------------------------ classification

def acc_table(title, pairs, keyf, keys=None):
    groups = collections.OrderedDict()
    for t, r in pairs:
        groups.setdefault(keyf(t), []).append((t, r))
    ks = keys if keys else sorted(groups, key=lambda k: (num(k) is None, num(k) or 0, k))
    print("\n%s" % title)
    print("  %-18s %6s %8s %8s %8s %8s" % ("", "n", "correct%", "unknown%", "tissue%", "other%"))
    for k in ks:
        g = groups.get(k, [])
        n = len(g)
        ok = sum(t["class"] == r["class"] for t, r in g)
        unk = sum(r["class"] == "unknown" for t, r in g)
        tis = sum(r["class"] == "tissue" and t["class"] != "tissue" for t, r in g)
        oth = n - ok - unk - tis
        print("  %-18s %6d %8s %8s %8s %8s" % (k, n, pct(ok, n), pct(unk, n), pct(tis, n), pct(oth, n)))


def accuracy(pairs):
    return 100.0 * sum(t["class"] == r["class"] for t, r in pairs) / len(pairs) if pairs else float("nan")


def two_way(title, pairs, rowf, colf):
    rows, cols = collections.OrderedDict(), set()
    for t, r in pairs:
        rows.setdefault(rowf(t), {}).setdefault(colf(t), []).append(t["class"] == r["class"])
        cols.add(colf(t))
    cols = sorted(cols, key=lambda k: (num(k) is None, num(k) or 0, k))
    print("\n%s (%% correct)" % title)
    print("  %-12s" % "" + "".join("%9s" % c for c in cols))
    for k in sorted(rows, key=lambda k: (num(k) is None, num(k) or 0, k)):
        print("  %-12s" % k + "".join(
            "%9s" % (pct(sum(rows[k].get(c, [])), len(rows[k].get(c, []))).strip()) for c in cols))


def eval_classify(args, gen_exe, work):
    out = os.path.join(work, "cls")
    g = Gen(gen_exe, out, args.seed)
    n = args.n
    snrs, shares, offs, fls = [5, 10, 20, 50], [0.1, 0.3, 1], [-4, 0, 4], [1, 10, 30, 100]
    if args.quick:
        fls = [1, 30]
    for cls in MINERALS + ["tissue"]:
        for snr in snrs:
            for sh in ([1] if cls == "tissue" else shares):
                for off in offs:
                    for fl in fls:
                        name = "%s_snr%d_sh%g_off%+d_fl%d" % (cls, snr, sh, off, fl)
                        kw = dict(snr=snr, offset=off, fluor=fl)
                        if cls != "tissue":
                            kw["share"] = sh
                        g.make(name, cls, n, **kw)
    # other lasers / pixel grids, nominal axis and fluorescence
    for laser in [785, 1064]:
        for cls in MINERALS + ["tissue"]:
            for snr in [10, 20, 50]:
                for sh in ([1] if cls == "tissue" else [0.3, 1]):
                    g.make("%s_snr%d_sh%g_laser%d" % (cls, snr, sh, laser), cls, n,
                           snr=snr, laser=laser, **({} if cls == "tissue" else {"share": sh}))
    truth = truth_of(out)
    rows, rc, dt = classify(args.calcspec, args.model, out)
    pairs = joined(rows, truth)
    print("== Classification: %d spectra (%d rows from calcspec, exit %d, %.1f s, %.2f ms/spectrum)"
          % (len(truth), len(rows), rc, dt, 1000 * dt / max(1, len(rows))))
    if len(pairs) < len(truth):
        print("   %d spectra refused or missing (counted wrong below)" % (len(truth) - len(pairs)))
        seen = {(os.path.basename(r["file"]), int(r["index"])) for r in rows}
        for k, t in truth.items():
            if k not in seen:
                pairs.append((t, {"class": "refused", "subtype": ""}))
    grid = [p for p in pairs if p[0]["laser"] == "830"]
    lasers = [p for p in pairs if p[0]["laser"] != "830" or (
        p[0]["offset"] == "0" and p[0]["fluor"] == "1" and p[0]["snr"] in ("10", "20", "50")
        and p[0]["mineral_share"] in ("0", "0.3", "1"))]
    mins = [p for p in grid if p[0]["class"] != "tissue"]
    tis = [p for p in grid if p[0]["class"] == "tissue"]
    print("\nGrid (830 nm, 1340 px): generator classes %s + tissue x SNR %s x mineral share %s x "
          "offset %s x fluorescence %s, %d per condition" % (
              "/".join(MINERALS), "/".join(map(str, snrs)), "/".join(map(str, shares)),
              "/".join(map(str, offs)), "/".join(map(str, fls)), n))
    acc_table("Overall", grid, lambda t: "mineral" if t["class"] != "tissue" else "tissue",
              ["mineral", "tissue"])
    print("  all                %6d %8.1f" % (len(grid), accuracy(grid)))
    acc_table("Minerals by band SNR", mins, lambda t: t["snr"])
    acc_table("Minerals by mineral share", mins, lambda t: t["mineral_share"])
    acc_table("Minerals by axis offset (cm-1)", mins, lambda t: t["offset"])
    acc_table("Minerals by fluorescence (x main band)", mins, lambda t: t["fluor"])
    acc_table("Minerals by generator class", mins, lambda t: t["gen_class"], MINERALS)
    acc_table("Tissue by SNR", tis, lambda t: t["snr"])
    two_way("Minerals: share (rows) x SNR (columns)", mins, lambda t: t["mineral_share"], lambda t: t["snr"])
    two_way("Minerals: generator class x SNR", mins, lambda t: t["gen_class"], lambda t: t["snr"])
    two_way("Minerals: generator class x offset", mins, lambda t: t["gen_class"], lambda t: t["offset"])
    two_way("Minerals: generator class x fluorescence", mins, lambda t: t["gen_class"], lambda t: t["fluor"])
    acc_table("By laser (offset 0, fluorescence 1, SNR 10/20/50, share 0.3/1 + tissue)", lasers,
              lambda t: t["laser"])
    # confusion
    preds = CLASSES + ["unknown"] + (["refused"] if any(r["class"] == "refused" for _, r in grid) else [])
    print("\nConfusion (rows: generator class; columns: calcspec class), grid")
    print("  %-12s" % "" + "".join("%10s" % p[:9] for p in preds))
    for gc in MINERALS + ["tissue"]:
        c = collections.Counter(r["class"] for t, r in grid if t["gen_class"] == gc)
        print("  %-12s" % gc + "".join("%10d" % c.get(p, 0) for p in preds))
    ox = [(t, r) for t, r in grid if t["class"] == "oxalate" and r["class"] == "oxalate"]
    sub_ok = sum(t["subtype"] == r.get("subtype", "") for t, r in ox)
    print("\nOxalate subtype (COD/COM) right when called oxalate: %s %% of %d" % (pct(sub_ok, len(ox)).strip(), len(ox)))
    fa = sum(r["class"] not in ("tissue", "unknown") for t, r in tis)
    miss = sum(r["class"] == "tissue" for t, r in mins)
    print("Tissue called a mineral: %d of %d (%s %%); minerals called tissue: %d of %d (%s %%)"
          % (fa, len(tis), pct(fa, len(tis)).strip(), miss, len(mins), pct(miss, len(mins)).strip()))
    # issue 13 targets
    def sub(f):
        return [p for p in grid if f(p[0])]
    a0 = accuracy(sub(lambda t: t["class"] != "tissue" and t["offset"] == "0"))
    a4 = accuracy(sub(lambda t: t["class"] != "tissue" and t["offset"] != "0"))
    f1 = accuracy(sub(lambda t: t["class"] != "tissue" and t["fluor"] == "1"))
    f30 = accuracy(sub(lambda t: t["class"] != "tissue" and t["fluor"] == "30"))
    checks = [
        ("overall (grid, minerals + tissue)", accuracy(grid), ">=", 95),
        ("SNR >= 20, share >= 0.3", accuracy(sub(lambda t: t["class"] != "tissue" and float(t["snr"]) >= 20
                                                 and float(t["mineral_share"]) >= 0.3)), ">=", 99),
        ("share 0.1, SNR >= 10", accuracy(sub(lambda t: t["class"] != "tissue" and float(t["snr"]) >= 10
                                              and t["mineral_share"] == "0.1")), ">=", 90),
        ("tissue called a mineral %", 100.0 * fa / len(tis) if tis else float("nan"), "<=", 1),
        ("cost of +-4 cm-1 offset (points)", a0 - a4, "<=", 2),
        ("cost of fluorescence 30x vs 1x (points)", f1 - f30, "<=", 5),
    ]
    print("\nIssue 13 targets on this grid")
    for name, v, op, lim in checks:
        ok = v >= lim if op == ">=" else v <= lim
        print("  %-42s %7.1f  (target %s %g)  %s" % (name, v, op, lim, "met" if ok else "NOT met"))
        SUMMARY["classify: " + name] = round(v, 2)
    SUMMARY["classify: minerals called tissue %"] = round(100.0 * miss / len(mins), 2) if mins else None
    SUMMARY["classify: ms per spectrum"] = round(1000 * dt / max(1, len(rows)), 3)
    optional_columns(grid)
    return pairs


def find_key(rows, names, contains=None):
    """First of names (or a key containing `contains`) present in the rows."""
    keys = set()
    for _, r in rows[:50]:
        keys.update(r.keys())
    for k in names:
        if k in keys:
            return k
    if contains:
        for k in sorted(keys):
            if contains in k:
                return k
    return None


def optional_columns(grid):
    """Columns issue 13 asks for (detection statistic, axis offset, window):
    scored when `classify` prints them, n/a otherwise."""
    k = find_key(grid, ["mineral_snr", "mineral_sigma", "detect_snr"], "mineral_snr")
    print("\nDetection statistic (%s)" % (k or "n/a: no mineral_snr column yet"))
    if k:
        print("  %-22s %6s %8s %8s %8s %8s" % ("", "n", "median", ">=3", ">=5", ">=10"))
        groups = collections.defaultdict(list)
        for t, r in grid:
            v = num(r.get(k))
            g = "tissue" if t["class"] == "tissue" else "share %s SNR %s" % (t["mineral_share"], t["snr"])
            groups[g].append(v if v is not None else float("nan"))
        for g in sorted(groups, key=lambda x: (x != "tissue", x)):
            v = sorted(x for x in groups[g] if x == x)
            n = len(groups[g])
            med = v[len(v) // 2] if v else float("nan")
            print("  %-22s %6d %8.2f %8s %8s %8s" % (g, n, med, pct(sum(x >= 3 for x in v), n),
                                                     pct(sum(x >= 5 for x in v), n), pct(sum(x >= 10 for x in v), n)))
    k = find_key(grid, ["axis_offset", "axis_offset_cm1", "offset_cm1", "offset", "shift_cm1"])
    print("\nAxis offset estimate vs truth (%s)" % (k or "n/a: no axis offset column yet"))
    if k:
        groups = collections.defaultdict(list)
        for t, r in grid:
            v = num(r.get(k))
            if v is not None:
                groups[t["gen_class"]].append((float(t["offset"]), v))
        print("  %-14s %6s %8s %8s %8s" % ("", "n", "MAE", "bias", "r"))
        for g in MINERALS + ["tissue"]:
            xy = groups.get(g, [])
            if xy:
                print("  %-14s %6d %8.2f %+8.2f %8.2f" % (g, len(xy), sum(abs(b - a) for a, b in xy) / len(xy),
                                                       sum(b - a for a, b in xy) / len(xy), pearson(xy)))
    k = find_key(grid, ["window", "model_window", "window_used"])
    if k:
        c = collections.Counter(r.get(k, "") for _, r in grid)
        print("\nWindow used (%s): %s" % (k, ", ".join("%s %d" % (w or "(empty)", n) for w, n in c.most_common())))


def eval_partial(args, gen_exe, work):
    """Spectra that stop early (processed RRUFF ends at 1190-1300 cm-1) or
    cover only the diagnostic region: classified, not refused (issue 13)."""
    out = os.path.join(work, "partial")
    g = Gen(gen_exe, out, args.seed + 8)
    crops = ["200:1250", "200:1300", "800:1150", "200:2000"]
    for crop in crops:
        for cls in MINERALS + ["tissue"]:
            for snr in [20, 50]:
                g.make("%s_snr%d_crop%s" % (cls, snr, crop.replace(":", "-")), cls, args.n, snr=snr, crop=crop)
    truth = truth_of(out)
    rows, rc, dt = classify(args.calcspec, args.model, out)
    pairs = joined(rows, truth)
    seen = {(os.path.basename(r["file"]), int(r["index"])) for r in rows}
    for k, t in truth.items():
        if k not in seen:
            pairs.append((t, {"class": "refused", "subtype": ""}))
    print("\n== Partial windows: %d spectra (SNR 20/50, share 1, offset 0, fluorescence 1), written only "
          "over the range shown; `refused` = per-spectrum error" % len(truth))
    print("  %-12s %6s %8s %8s %8s" % ("range", "n", "correct%", "unknown%", "refused%"))
    for crop in crops:
        tag = "crop" + crop.replace(":", "-") + ".csv"
        grp = [(t, r) for t, r in pairs if t["file"].endswith(tag)]
        n = len(grp)
        ok = sum(t["class"] == r["class"] for t, r in grp)
        print("  %-12s %6d %8s %8s %8s" % (crop, n, pct(ok, n), pct(sum(r["class"] == "unknown" for _, r in grp), n),
                                         pct(sum(r["class"] == "refused" for _, r in grp), n)))
        SUMMARY["partial window %s: accuracy %%" % crop] = round(100.0 * ok / n, 2) if n else None


# --------------------------------------------------------------- composition

def stats(pairs):
    """pairs of (truth, est, lo, hi): n, MAE, bias, slope, coverage."""
    pairs = [p for p in pairs if p[1] is not None]
    n = len(pairs)
    if not n:
        return "%5d %7s %7s %7s %8s" % (0, "n/a", "n/a", "n/a", "n/a")
    mae = sum(abs(e - t) for t, e, _, _ in pairs) / n
    bias = sum(e - t for t, e, _, _ in pairs) / n
    mt = sum(t for t, _, _, _ in pairs) / n
    me = sum(e for _, e, _, _ in pairs) / n
    sxx = sum((t - mt) ** 2 for t, _, _, _ in pairs)
    slope = sum((t - mt) * (e - me) for t, e, _, _ in pairs) / sxx if sxx > 0 else float("nan")
    ci = [(t, lo, hi) for t, _, lo, hi in pairs if lo is not None and hi is not None]
    cov = "%7.0f%%" % (100.0 * sum(lo <= t <= hi for t, lo, hi in ci) / len(ci)) if ci else "     n/a"
    return "%5d %7.2f %+7.2f %7.2f %8s" % (n, mae, bias, slope, cov)


def pearson(xy):
    n = len(xy)
    if n < 3:
        return float("nan")
    mx = sum(x for x, _ in xy) / n
    my = sum(y for _, y in xy) / n
    sxx = sum((x - mx) ** 2 for x, _ in xy)
    syy = sum((y - my) ** 2 for _, y in xy)
    sxy = sum((x - mx) * (y - my) for x, y in xy)
    return sxy / math.sqrt(sxx * syy) if sxx > 0 and syy > 0 else float("nan")


def cores(args, outdir, cal, model=None):
    out = os.path.join(outdir, "cores.tsv")
    files = sorted(os.path.join(outdir, f) for f in os.listdir(outdir) if f.endswith(".csv"))
    model = model or args.model
    cmd = [args.calcspec, "cores"] + (["-m", model] if model else []) + \
          (["-c", cal] if cal else []) + files
    rc, _ = run(cmd, out)
    if rc != 0:
        with open(out + ".err") as f:
            errs = f.read().splitlines()
        if errs:
            print("\n(`calcspec cores` exit %d, %d stderr lines; first: %s)" % (rc, len(errs), errs[0]))
    return {r["core_id"]: r for r in read_tsv(out)}, rc


def carb_of(r):
    """(estimate, lo, hi, censored) from a row with carbonate_wt/lo/hi, or
    None.  A censored value '<LOD' (also '< LOD') is scored as LOD/2, the
    usual substitution, with its printed interval (else [0, LOD])."""
    if not r:
        return None
    v = (col(r, "carbonate_wt") or "").strip()
    lo, hi = num(col(r, "carbonate_lo")), num(col(r, "carbonate_hi"))
    e = num(v)
    if e is not None:
        return (e, lo, hi, False)
    if v.startswith("<"):
        lod = num(v[1:].strip()) if num(v[1:].strip()) is not None else num(col(r, "carbonate_lod"))
        if lod is not None:
            return (lod / 2, lo if lo is not None else 0.0, hi if hi is not None else lod, True)
    return None


def col(r, *names):
    for k in names:
        if k in r:
            return r[k]
    return None


def carbonate_tables(label, truth, est_of, groupings):
    """est_of(truth-or-core-key) -> (est, lo, hi) or None."""
    print("\n%s" % label)
    print("  %-22s %5s %7s %7s %7s %8s" % ("", "n", "MAE", "bias", "slope", "cover95"))
    for gname, gf in groupings:
        groups = collections.defaultdict(list)
        for k, t in truth.items():
            e = est_of(k)
            groups[gf(t)].append((t["_wt"], e[0] if e else None, e[1] if e else None, e[2] if e else None))
        for gk in sorted(groups, key=lambda x: (num(x) is None, num(x) or 0, x)):
            print("  %-22s %s" % ("%s %s" % (gname, gk), stats(groups[gk])))
            if gname == "all":
                SUMMARY[label.split(" (")[0] + " [n MAE bias slope cover%]"] = [
                    num(v.rstrip("%")) for v in stats(groups[gk]).split()]


def issue14_targets(carb_user):
    """Carbonate targets of issue 14 on the user-calibrated results:
    tissue-mixture bias within 0.5 wt % of pure mineral; 95 % intervals
    covering 85-99 % at every SNR."""
    if not carb_user:
        return
    print("\nIssue 14 carbonate targets (user calibration)")
    for cs, res in sorted(carb_user.items(), reverse=True):
        what = "per core of 5" if cs == 5 else "per spectrum"
        def bias(f):
            v = [e[0] - t["_wt"] for t, e in res if e and f(t)]
            return sum(v) / len(v) if v else float("nan")
        b1 = bias(lambda t: t["mineral_share"] == "1")
        for sh in ("0.3", "0.6"):
            d = bias(lambda t: t["mineral_share"] == sh) - b1
            print("  %-14s bias at share %s minus pure: %+6.2f wt%% (|.| <= 0.5)  %s"
                  % (what, sh, d, "met" if abs(d) <= 0.5 else "NOT met"))
        for snr in sorted({t["snr"] for t, _ in res}, key=float):
            ci = [(t["_wt"], e[1], e[2]) for t, e in res if e and t["snr"] == snr and e[1] is not None
                  and e[2] is not None]
            cov = 100.0 * sum(lo <= w <= hi for w, lo, hi in ci) / len(ci) if ci else float("nan")
            print("  %-14s coverage at SNR %-3s %5.1f %% of %d (85-99)  %s"
                  % (what, snr, cov, len(ci), "met" if 85 <= cov <= 99 else "NOT met"))
            SUMMARY["carbonate coverage %s SNR %s %%" % (what, snr)] = round(cov, 1)


def eval_composition(args, gen_exe, work):
    print("\n== Composition (carbonate after a user calibration on stress standards; "
          "whitlockite index; COM fraction)")
    std = os.path.join(work, "std")
    g = Gen(gen_exe, std, args.seed + 1)
    labels = os.path.join(work, "labels.csv")
    with open(labels, "w") as f:
        for wt in [0, 2, 4, 6, 8, 10]:
            for rep in range(4):
                p = g.make("std_%02d_%d" % (wt, rep), "ha", 1, snr=50, carbonate=wt, wht=0)
                f.write("%s,%d\n" % (p, wt))
    cal = os.path.join(work, "cal.txt")
    stds = sorted(os.path.join(std, x) for x in os.listdir(std) if x.endswith(".csv"))
    rc = subprocess.call([args.calcspec, "calibrate", "carbonate", "-l", labels, "-o", cal] + stds)
    if rc != 0:
        print("calibrate carbonate failed (exit %d): carbonate after calibration n/a" % rc)
        cal = None
    else:
        kv = dict(l.split(None, 1) for l in open(cal) if " " in l)
        print("calibration on 24 pure-HA standards (SNR 50, 0-10 wt%%): m %s  b %s  s_resid %s"
              % (kv.get("m", "?").strip(), kv.get("b", "?").strip(), kv.get("s_resid", "?").strip()))
    # test sets, the same spectra twice: cores of 5 and cores of 1 (per spectrum)
    n = max(10, args.n - args.n % 5)
    sets, carb_user = {}, {}
    for cs in (5, 1):
        d = os.path.join(work, "carb%d" % cs)
        gg = Gen(gen_exe, d, args.seed + 2)
        for snr in [5, 10, 20, 50]:
            for sh in [0.3, 0.6, 1]:
                for off in ([0] if args.quick else [-4, 0, 4]):
                    gg.make("ha_snr%d_sh%g_off%+d_cs%d" % (snr, sh, off, cs), "ha", n, snr=snr, share=sh,
                            offset=off, wht=0, core_size=cs)
        sets[cs] = d
    for calname, c in (("user calibration", cal), ("built-in calibration", None)):
        if calname == "user calibration" and not cal:
            continue
        for cs in (5, 1):
            d = sets[cs]
            tr = truth_of(d)
            byc = collections.defaultdict(list)
            for t in tr.values():
                byc[t["core_id"]].append(t)
            ctruth = {}
            for cid, ts in byc.items():
                t = dict(ts[0])
                t["_wt"] = sum(float(x["carbonate_wt"]) for x in ts) / len(ts)
                ctruth[cid] = t
            res, rc = cores(args, d, c)

            def est(k, res=res):
                return carb_of(res.get(k))
            what = "per core of 5" if cs == 5 else "per spectrum (cores of 1)"
            nvalid = sum(est(k) is not None for k in ctruth)
            ncens = sum(bool(est(k) and est(k)[3]) for k in ctruth)
            if c == cal:
                carb_user[cs] = [(t, est(k)) for k, t in ctruth.items()]
            carbonate_tables("Carbonate wt%%, %s, %s (`cores`, exit %d; %d of %d with a value, %d of them "
                             "< LOD scored as LOD/2)" % (calname, what, rc, nvalid, len(ctruth), ncens),
                             ctruth, est,
                             [("all", lambda t: ""), ("SNR", lambda t: t["snr"]),
                              ("share", lambda t: t["mineral_share"]),
                              ("offset", lambda t: t["offset"])])
    issue14_targets(carb_user)
    # per-spectrum carbonate from classify, when it has the columns
    rows, rc, _ = classify(args.calcspec, args.model, sets[5],
                           ["--composition"] + (["-c", cal] if cal else []))
    if rc == 2 or not rows:
        rows, rc, _ = classify(args.calcspec, args.model, sets[5], ["--composition"])
    tr = truth_of(sets[5])
    pairs = joined(rows, tr)
    if pairs and "carbonate_wt" in pairs[0][1]:
        st = {}
        for t, r in pairs:
            t = dict(t)
            t["_wt"] = float(t["carbonate_wt"])
            st[(t["file"], t["index"])] = (t, r)
        carbonate_tables("Carbonate wt%, per spectrum from `classify` columns", {k: v[0] for k, v in st.items()},
                         lambda k: carb_of(st[k][1]),
                         [("all", lambda t: ""), ("SNR", lambda t: t["snr"]),
                          ("share", lambda t: t["mineral_share"])])
        cens = sum(bool(carb_of(r) and carb_of(r)[3]) for _, r in pairs)
        print("  censored (< LOD, scored as LOD/2): %d" % cens)
    else:
        print("\nCarbonate per spectrum from `classify`: n/a (no carbonate_wt column yet)")

    # whitlockite index on HA + whitlockite mixtures
    d = os.path.join(work, "wht")
    gg = Gen(gen_exe, d, args.seed + 3)
    for snr in [10, 20, 50]:
        for sh in [0.3, 1]:
            for off in [-4, 0, 4]:
                gg.make("hawh_snr%d_sh%g_off%+d" % (snr, sh, off), "hawh", n, snr=snr, share=sh, offset=off,
                        core_size=1)
    tr = truth_of(d)
    res, rc = cores(args, d, cal)
    rows, rc2, _ = classify(args.calcspec, args.model, d, ["--composition"])
    pairs = {(os.path.basename(r["file"]), int(r["index"])): r for r in rows}
    print("\nWhitlockite index vs true whitlockite share (HA + whitlockite mixtures, share 0-1)")
    print("  %-22s %5s %7s %7s %7s" % ("", "n", "r", "MAE", "bias"))
    for src in ("cores", "classify"):
        def val(k, t, src=src):
            if src == "cores":
                r = res.get(t["core_id"])
                return num(col(r, "whitlockite_index")) if r else None
            r = pairs.get(k)
            return num(col(r, "whitlockite_index")) if r else None
        for gname, gf in [("all", lambda t: ""), ("SNR", lambda t: t["snr"]),
                          ("share", lambda t: t["mineral_share"]), ("offset", lambda t: t["offset"])]:
            groups = collections.defaultdict(list)
            for k, t in tr.items():
                v = val(k, t)
                if v is not None:
                    groups[gf(t)].append((float(t["whitlockite_share"]), v))
            if not groups:
                print("  %-22s %5s %7s" % (src, 0, "n/a (no whitlockite_index column)"))
                break
            for gk in sorted(groups, key=lambda x: (num(x) is None, num(x) or 0, x)):
                xy = groups[gk]
                mae = sum(abs(y - x) for x, y in xy) / len(xy)
                bias = sum(y - x for x, y in xy) / len(xy)
                print("  %-22s %5d %7.2f %7.3f %+7.3f" % ("%s %s %s" % (src, gname, gk), len(xy),
                                                         pearson(xy), mae, bias))
                if gname != "all" and gname != "offset":
                    continue
                SUMMARY["whitlockite index %s %s %s [n r MAE]" % (src, gname, gk)] = [
                    len(xy), round(pearson(xy), 3), round(mae, 3)]
    # issue 14 target: r >= 0.9 and MAE <= 0.1 at SNR >= 20, offsets included
    for src, getv in (("cores", lambda k, t: num(col(res.get(t["core_id"]) or {}, "whitlockite_index"))),
                      ("classify", lambda k, t: num(col(pairs.get(k) or {}, "whitlockite_index")))):
        xy = [(float(t["whitlockite_share"]), getv(k, t)) for k, t in tr.items() if float(t["snr"]) >= 20]
        xy = [(x, y) for x, y in xy if y is not None]
        if xy:
            r, mae = pearson(xy), sum(abs(y - x) for x, y in xy) / len(xy)
            print("  issue 14 target (%s, SNR >= 20, offsets -4/0/4): r %.2f (>= 0.9) MAE %.3f (<= 0.1)  %s"
                  % (src, r, mae, "met" if r >= 0.9 and mae <= 0.1 else "NOT met"))
    # COM fraction
    d = os.path.join(work, "com")
    gg = Gen(gen_exe, d, args.seed + 4)
    for snr in [20, 50]:
        for sh in [0.3, 1]:
            gg.make("ox_snr%d_sh%g" % (snr, sh), "oxalate", n, snr=snr, share=sh, core_size=1)
    tr = truth_of(d)
    rows, rc, _ = classify(args.calcspec, args.model, d, ["--composition"])
    xy = collections.defaultdict(list)
    name = None
    for t, r in joined(rows, tr):
        for c in ("com_fraction", "com_frac", "x_com", "com"):
            if c in r:
                name = c
                v = num(r[c])
                if v is not None:
                    xy["SNR %s share %s" % (t["snr"], t["mineral_share"])].append((float(t["com_frac"]), v))
                break
    print("\nCOM mole fraction vs truth (oxalate, COM 0-1, with tissue)")
    if not name:
        print("  n/a (no COM fraction column in `classify` yet)")
    for k in sorted(xy):
        v = xy[k]
        print("  %-22s n %4d  r %.2f  MAE %.3f" % (k, len(v), pearson(v),
                                                  sum(abs(a - b) for a, b in v) / len(v)))


def eval_ftir(args, gen_exe, work):
    out = os.path.join(work, "ftir")
    g = Gen(gen_exe, out, args.seed + 5)
    n = args.n
    for mode in ("ftir", "atr"):
        for cls in MINERALS + ["tissue"]:
            for snr in [10, 30, 100]:
                for sh in ([1] if cls == "tissue" else [0.3, 1]):
                    kw = {} if cls == "tissue" else {"share": sh}
                    kw[mode] = True
                    g.make("%s_%s_snr%d_sh%g" % (mode, cls, snr, sh), cls, n, snr=snr, **kw)
    truth = truth_of(out)
    rows, rc, dt = classify(args.calcspec, args.model, out)
    pairs = joined(rows, truth)
    print("\n== FTIR classification: %d spectra (%d rows, exit %d); transmission 400-4000 and diamond ATR "
          "650-4000 cm-1, SNR 10/30/100, share 0.3/1, %d per condition" % (len(truth), len(rows), rc, n))
    mins = [p for p in pairs if p[0]["class"] != "tissue"]
    acc_table("FTIR by sampling", pairs, lambda t: t["technique"])
    acc_table("FTIR minerals by SNR", mins, lambda t: t["snr"])
    acc_table("FTIR minerals by share", mins, lambda t: t["mineral_share"])
    acc_table("FTIR by generator class", pairs, lambda t: t["gen_class"], MINERALS + ["tissue"])
    # FTIR carbonate: calibrate on transmission standards, test bone-like mineral in protein
    std = os.path.join(work, "ftir_std")
    gs = Gen(gen_exe, std, args.seed + 6)
    labels = os.path.join(work, "ftir_labels.csv")
    with open(labels, "w") as f:
        for wt in [0, 2, 4, 6, 8, 10]:
            for rep in range(4):
                f.write("%s,%d\n" % (gs.make("fstd_%02d_%d" % (wt, rep), "ha", 1, snr=100, carbonate=wt,
                                              wht=0, ftir=True), wt))
    cal = os.path.join(work, "ftir_cal.txt")
    stds = sorted(os.path.join(std, x) for x in os.listdir(std) if x.endswith(".csv"))
    rc = subprocess.call([args.calcspec, "calibrate", "carbonate", "-l", labels, "-o", cal] + stds,
                         stderr=subprocess.DEVNULL)
    d = os.path.join(work, "ftir_carb")
    gg = Gen(gen_exe, d, args.seed + 7)
    for snr in [30, 100]:
        for sh in [0.5, 1]:
            gg.make("fha_snr%d_sh%g" % (snr, sh), "ha", max(10, n), snr=snr, share=sh, wht=0, ftir=True,
                    core_size=1)
    tr = truth_of(d)
    # `cores` takes one model for all spectra (the Raman default without -m):
    # use the build's copy of the embedded FTIR model text
    fmodel = args.model or os.path.join(os.path.dirname(os.path.abspath(args.calcspec)), "gen", "model_ftir.txt")
    fmodel = fmodel if os.path.exists(fmodel) else None
    for calname, c in (("user FTIR calibration", cal if rc == 0 else None), ("built-in calibration", None)):
        if calname.startswith("user") and not c:
            print("\nFTIR calibrate carbonate failed (exit %d): n/a" % rc)
            continue
        res, rc2 = cores(args, d, c, fmodel)
        ctruth = {}
        for t in tr.values():
            t = dict(t)
            t["_wt"] = float(t["carbonate_wt"])
            ctruth[t["core_id"]] = t

        def est(k, res=res):
            return carb_of(res.get(k))
        nval = sum(est(k) is not None for k in ctruth)
        carbonate_tables("FTIR carbonate wt%%, %s, per spectrum (transmission, bone-like apatite in protein; "
                         "`cores`, exit %d; %d of %d with a value)" % (calname, rc2, nval, len(ctruth)),
                         ctruth, est,
                         [("all", lambda t: ""), ("SNR", lambda t: t["snr"]),
                          ("share", lambda t: t["mineral_share"])])
    fa = sum(r["class"] not in ("tissue", "unknown") for t, r in pairs if t["class"] == "tissue")
    SUMMARY["ftir: accuracy %"] = round(accuracy(pairs), 2)
    SUMMARY["ftir: tissue called a mineral"] = fa
    print("FTIR tissue called a mineral: %d of %d" % (fa, sum(t["class"] == "tissue" for t, _ in pairs)))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--calcspec", default=os.path.join(HERE, "..", "build", "calcspec"))
    ap.add_argument("-m", "--model", default=None)
    ap.add_argument("-n", type=int, default=6, help="spectra per condition (6)")
    ap.add_argument("--seed", type=int, default=13)
    ap.add_argument("--cc", default=os.environ.get("CC", "cc"))
    ap.add_argument("--quick", action="store_true", help="fewer conditions (fluorescence 1/30)")
    ap.add_argument("--keep", default=None, help="write the data here and keep it")
    ap.add_argument("--no-classify", action="store_true")
    ap.add_argument("--no-composition", action="store_true")
    ap.add_argument("--no-ftir", action="store_true")
    ap.add_argument("--no-partial", action="store_true")
    ap.add_argument("--json", default=None, help="also write the headline numbers to this JSON file")
    args = ap.parse_args()
    if not os.access(args.calcspec, os.X_OK):
        die("%s is not an executable (make first, or --calcspec)" % args.calcspec)
    if args.keep:
        work = os.path.abspath(args.keep)
        os.makedirs(work, exist_ok=True)
    else:
        work = tempfile.mkdtemp(prefix="calcspec-stress.")
    try:
        exe = build_gen(work, args.cc)
        print("SYNTHETIC spectra from tests/stressgen.c (independent of calcspec simulate); seed %d; "
              "model %s" % (args.seed, args.model or "built-in"))
        if not args.no_classify:
            eval_classify(args, exe, work)
        if not args.no_composition:
            eval_composition(args, exe, work)
        if not args.no_partial:
            eval_partial(args, exe, work)
        if not args.no_ftir:
            eval_ftir(args, exe, work)
        if args.json:
            import json
            with open(args.json, "w") as f:
                json.dump(SUMMARY, f, indent=1)
                f.write("\n")
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
