#!/usr/bin/env python3
"""Cosmic-ray quality on a simulated night with known truth: astrotool's L.A.Cosmic against
astroscrappy's, same parameters, same calibrated frames.

    python3 scripts/measure/cr_quality.py .build/release/astrotool OUTDIR [--cr-rate 60]

Needs numpy, astropy and astroscrappy (bench/.venv has them). Simulates a 1024x1024 night,
calibrates it with recipes/night.mk, then scores against truth/cr_NNN.fits (every pixel a cosmic
ray touched): completeness = flagged truth pixels / truth pixels, false positives = flagged
pixels outside the truth, both in total and on the flat's low-response pixels.
"""
import argparse, glob, json, os, subprocess, sys

import numpy as np
from astropy.io import fits
import astroscrappy

ap = argparse.ArgumentParser()
ap.add_argument("tool")
ap.add_argument("out")
ap.add_argument("--cr-rate", type=float, default=60)
ap.add_argument("--seed", type=int, default=7)
args = ap.parse_args()
tool = os.path.abspath(args.tool)
raw, red = os.path.join(args.out, "raw"), os.path.join(args.out, "reduced")
subprocess.run([tool, "simulate", "night", "--outdir", raw, "--seed", str(args.seed), "--shape", "1024", "1024",
                "--nsci", "3", "--cr-rate", str(args.cr_rate), "--overwrite", "-q"], check=True)
subprocess.run(["make", "--no-print-directory", "-f", "recipes/night.mk", "-j", "2", f"AT={tool}", f"RAW={raw}",
                f"OUT={red}", "calibrated"], check=True)

rows = []
for calib in sorted(glob.glob(os.path.join(red, "calibrated", "sci_*.fits"))):
    n = os.path.basename(calib).split("_")[-1].split(".")[0]
    truth = fits.getdata(os.path.join(raw, "truth", f"cr_{n}.fits")) != 0
    with fits.open(calib) as h:
        data = h[0].data.astype(np.float32)
        bpm = h["MASK"].data != 0
        gain, rn = h[0].header["GAIN"], h[0].header["RDNOISE"]
    sat = 65535 * gain
    results = {}
    for label, extra in [("astrotool (MASK fed)", []), ("astrotool --ignore-mask", ["--ignore-mask"])]:
        out = os.path.join(red, f"cr_{label.split()[1].strip('()-')}_{n}.fits")
        subprocess.run([tool, "ccdproc", "cosmicray", calib, "-o", out, "--overwrite", "-q", "--satlevel", f"{sat}"] + extra,
                       check=True)
        results[label] = (fits.getdata(out, "MASK").astype(np.uint8) & 4) != 0
    # astroscrappy on the same electrons (gain 1), with and without the bad-pixel mask.
    results["astroscrappy"] = astroscrappy.detect_cosmics(data, gain=1.0, readnoise=rn, satlevel=sat)[0]
    results["astroscrappy inmask=MASK"] = astroscrappy.detect_cosmics(data, inmask=bpm, gain=1.0, readnoise=rn, satlevel=sat)[0]
    for label, m in results.items():
        rows.append(dict(frame=n, tool=label, truth=int(truth.sum()), found=int((m & truth).sum()),
                         false=int((m & ~truth).sum()), false_on_bad=int((m & ~truth & bpm).sum())))

print(f"cr-rate {args.cr_rate}, 3 frames of 1024x1024")
print(f"{'tool':28s} {'truth':>7s} {'found':>7s} {'complete':>9s} {'false':>7s} {'on MASK':>8s}")
for label in dict.fromkeys(r["tool"] for r in rows):
    sel = [r for r in rows if r["tool"] == label]
    t, f, fp, fb = (sum(r[k] for r in sel) for k in ("truth", "found", "false", "false_on_bad"))
    print(f"{label:28s} {t:7d} {f:7d} {f / t:9.3f} {fp:7d} {fb:8d}")
print("json " + json.dumps(rows))
