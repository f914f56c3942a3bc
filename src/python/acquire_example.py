#!/usr/bin/python3
"""acquire_example.py: an acquisition loop driven by calcspec's QC flags.

    acquire_example.py [--laser NM] SPOT [SPOT ...]

Each SPOT stands for one needle position; it is a comma-separated list of
two-column text files (x, counts), which the fake spectrometer below returns
one per acquisition, in order.  Replace FakeSpectrometer with your driver:
it only needs acquire(exposure_s) -> (x, y).

For every spot the loop acquires, classifies, and while calcspec says
"reacquire" it adapts and tries again (at most 3 acquisitions):
low_snr -> double the exposure, saturated -> halve it, no_mineral or
out_of_window -> stop and move the needle.  One JSON line per spot goes to
stdout: spot, attempts, exposure_s, class, subtype, snr, qc_flags, verdict.
"""
import json
import sys

import calcspec

MAX_ATTEMPTS = 3


class FakeSpectrometer:
    """Returns the spectra of a list of files, one per acquire()."""

    def __init__(self, files):
        self.files = list(files)

    def acquire(self, exposure_s):
        path = self.files.pop(0)  # a real driver would expose for exposure_s
        x, y = [], []
        with open(path) as f:
            for line in f:
                fields = line.replace(",", " ").split()
                if len(fields) < 2 or line.startswith("#"):
                    continue
                try:
                    x.append(float(fields[0]))
                    y.append(float(fields[1]))
                except ValueError:
                    pass  # a header line
        return x, y

    def more(self):
        return bool(self.files)


def measure_spot(spec, axis, laser_nm):
    exposure, used, attempts, r = 1.0, 1.0, 0, None
    while attempts < MAX_ATTEMPTS and spec.more():
        used = exposure
        x, y = spec.acquire(used)
        attempts += 1
        r = calcspec.classify(x, y, axis=axis, laser_nm=laser_nm)
        flags = r["qc"]["flags"]
        if not r["reacquire"]:
            return r, attempts, used, "ok"
        if "no_mineral" in flags or "out_of_window" in flags:
            return r, attempts, used, "move needle"
        if "saturated" in flags:
            exposure /= 2
        elif "low_snr" in flags or "fluorescence" in flags:
            exposure *= 2
    return r, attempts, used, "gave up"


def main(argv):
    import argparse
    ap = argparse.ArgumentParser(
        prog="acquire_example.py", description=__doc__.split("\n\n", 2)[2],
        formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--laser", type=float, metavar="NM",
                    help="x is wavelength in nm, with this excitation")
    ap.add_argument("spots", nargs="+", metavar="SPOT",
                    help="comma-separated files, one per acquisition")
    a = ap.parse_args(argv[1:])
    axis = "wavelength_nm" if a.laser is not None else "raman_shift"
    laser, spots = a.laser, a.spots
    for n, spot in enumerate(spots, 1):
        spec = FakeSpectrometer(spot.split(","))
        try:
            r, attempts, exposure, verdict = measure_spot(spec, axis, laser)
        except (OSError, calcspec.Error) as e:
            print(json.dumps({"spot": n, "error": str(e)}), flush=True)
            continue
        print(json.dumps({"spot": n, "attempts": attempts,
                          "exposure_s": exposure, "class": r["class"],
                          "subtype": r["subtype"],
                          "snr": round(r["qc"]["snr"], 1),
                          "qc_flags": ",".join(r["qc"]["flags"]), "verdict": verdict}),
              flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
