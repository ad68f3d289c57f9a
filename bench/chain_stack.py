"""The Python stack astrotool's chain replaces, on a night made by `astrotool simulate night`:
ccdproc (masters, calibration) -> astroscrappy (L.A.Cosmic) -> rate -> stcal skymatch
(global+match) -> drizzle (square kernel, ivm weights) -> mosaic.fits (SCI, WHT, CON).

It has no aligner: each frame gets the night's true WCS (truth/wcs_NNN.hdr), as in the issue's
reference numbers ("given the true WCS"). Run in bench/.venv-chain (stcal 1.20, which pins
drizzle 2.2, plus ccdproc 2.5.1 and astroscrappy 1.3.0):

    python bench/chain_stack.py RAW_DIR OUT_DIR   ->  OUT_DIR/mosaic.fits, timings on stdout (JSON)
"""
import glob, json, os, sys, time

import astroscrappy
import numpy as np
from astropy import units as u
from astropy.io import fits
from astropy.nddata import CCDData
from astropy.stats import mad_std
from astropy.wcs import WCS
import ccdproc
from drizzle.resample import Drizzle
from drizzle.utils import calc_pixmap
from stcal.skymatch import skymatch
from stcal.skymatch.skyimage import SkyImage
from stcal.skymatch.skystatistics import SkyStats

raw, out = sys.argv[1], sys.argv[2]
os.makedirs(out, exist_ok=True)
clock = {}
t0 = time.perf_counter()


def frames(kind):
    return sorted(f for f in glob.glob(os.path.join(raw, "*.fits")) if fits.getheader(f).get("IMAGETYP") == kind)


def basic(path):
    """Overscan (median per line, BIASSEC) and trim (TRIMSEC), in ADU."""
    ccd = CCDData.read(path, unit="adu")
    ccd = ccdproc.subtract_overscan(ccd, fits_section=ccd.header["BIASSEC"], median=True, overscan_axis=1)
    return ccdproc.trim_image(ccd, fits_section=ccd.header["TRIMSEC"])


def stack(ccds, **kw):
    return ccdproc.combine(ccds, method="average", sigma_clip=True, sigma_clip_low_thresh=3, sigma_clip_high_thresh=3,
                           sigma_clip_func=np.ma.median, sigma_clip_dev_func=mad_std, **kw)


# Masters: bias; dark (ADU in the darks' exposure time, scaled by ccdproc); flat normalised to
# unit median.
bias = stack([basic(f) for f in frames("BIAS")])
dark = stack([ccdproc.subtract_bias(basic(f), bias) for f in frames("DARK")])
dark_s = fits.getheader(frames("DARK")[0])["EXPTIME"] * u.s
flats = []
for f in frames("FLAT"):
    c = ccdproc.subtract_bias(basic(f), bias)
    c = ccdproc.subtract_dark(c, dark, dark_exposure=dark_s, data_exposure=c.header["EXPTIME"] * u.s, scale=True)
    flats.append(c)
flat = stack(flats, scale=lambda a: 1 / np.ma.median(a))
clock["masters"] = time.perf_counter() - t0

# Science: calibrated in electrons with an uncertainty, cosmic rays by L.A.Cosmic with
# astroscrappy's defaults (read noise from the header), then per second.
sci = []
t = time.perf_counter()
for f in frames("OBJECT"):
    ccd = CCDData.read(f, unit="adu")
    gain, rn, exptime = ccd.header["GAIN"], ccd.header["RDNOISE"], ccd.header["EXPTIME"]
    ccd = ccdproc.ccd_process(ccd, oscan=ccd.header["BIASSEC"], oscan_median=True, trim=ccd.header["TRIMSEC"], error=True,
                              gain=gain * u.electron / u.adu, readnoise=rn * u.electron, master_bias=bias, dark_frame=dark,
                              master_flat=flat, dark_exposure=dark_s,
                              data_exposure=exptime * u.s, dark_scale=True, gain_corrected=False)
    crmask, clean = astroscrappy.detect_cosmics(ccd.data.astype(np.float32), gain=1.0, readnoise=rn, satlevel=65535 * gain)
    err = ccd.uncertainty.array
    name = os.path.basename(f)
    k = name.split("_")[-1].split(".")[0]
    wcs = WCS(fits.Header.fromtextfile(os.path.join(raw, "truth", f"wcs_{k}.hdr")))
    wcs.pixel_shape = ccd.data.shape[::-1]
    sci.append(dict(name=name, data=(clean / exptime).astype(np.float32), err=(err / exptime).astype(np.float32),
                    good=~crmask & np.isfinite(clean), wcs=wcs, exptime=exptime))
clock["calibrate+cosmics"] = time.perf_counter() - t

# Sky: stcal's global+match with its defaults (mode, match_down), cosmic rays masked.
t = time.perf_counter()
images = [SkyImage(s["data"], s["good"],
                   lambda x, y, with_bounding_box=False, w=s["wcs"]: w.all_pix2world(x, y, 0),
                   lambda ra, dec, with_bounding_box=False, w=s["wcs"]: w.all_world2pix(ra, dec, 0),
                   SkyStats(skystat="mode", nclip=5, lsig=4.0, usig=4.0, binwidth=0.1)) for s in sci]
skymatch(images, skymethod="global+match", match_down=True, subtract=False)
clock["skymatch"] = time.perf_counter() - t

# Mosaic: a north-up TAN grid at the first frame's scale covering every frame, square kernel,
# inverse-variance weights, each frame less its sky.
t = time.perf_counter()
ny, nx = sci[0]["data"].shape
corners = np.array([[-0.5, -0.5], [nx - 0.5, -0.5], [nx - 0.5, ny - 0.5], [-0.5, ny - 0.5]])
radec = np.vstack([s["wcs"].all_pix2world(corners, 0) for s in sci])
scale = np.sqrt(abs(np.linalg.det(sci[0]["wcs"].pixel_scale_matrix)))
ref = WCS(naxis=2)
ref.wcs.ctype = ["RA---TAN", "DEC--TAN"]
ref.wcs.crval = [radec[:, 0].mean(), radec[:, 1].mean()]
ref.wcs.cd = [[-scale, 0], [0, scale]]
ref.wcs.crpix = [1, 1]
p = ref.all_world2pix(radec, 0)
x0, y0 = np.floor(p.min(axis=0))
ref.wcs.crpix = [1 - x0, 1 - y0]
onx, ony = (np.ceil(p.max(axis=0)) - np.floor(p.min(axis=0)) + 1).astype(int)
ref.pixel_shape = (onx, ony)
driz = Drizzle(kernel="square", out_shape=(ony, onx), fillval="NaN")
for s, im in zip(sci, images):
    pixmap = calc_pixmap(s["wcs"], ref)
    w = np.where(s["good"] & (s["err"] > 0), 1 / np.maximum(s["err"], 1e-30) ** 2, 0).astype(np.float32)
    driz.add_image(np.nan_to_num(s["data"] - im.sky), exptime=s["exptime"], pixmap=pixmap, weight_map=w, pixfrac=1.0)
h = ref.to_header()
h["EXPTIME"] = sum(s["exptime"] for s in sci)
fits.HDUList([fits.PrimaryHDU(driz.out_img.astype(np.float32), header=h),
              fits.ImageHDU(driz.out_wht.astype(np.float32), name="WHT"),
              fits.ImageHDU(driz.out_ctx.astype(np.int32), name="CON")]).writeto(os.path.join(out, "mosaic.fits"), overwrite=True)
clock["drizzle"] = time.perf_counter() - t
clock["total"] = time.perf_counter() - t0
clock["skies"] = [float(im.sky) for im in images]
print(json.dumps(clock))
