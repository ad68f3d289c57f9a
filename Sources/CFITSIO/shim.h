#ifndef ASTROTOOL_CFITSIO_SHIM_H
#define ASTROTOOL_CFITSIO_SHIM_H
#include <fitsio.h>
/* fits_open_file is a function-like macro (expands to ffopentest with the SONAME check);
   Swift imports no function-like macros, so this shim keeps the ABI check. */
static inline int astro_fits_open_file(fitsfile **fptr, const char *name, int mode, int *status) {
    return fits_open_file(fptr, name, mode, status);
}
/* Raw byte access to the logical file (any driver: disk, gzip in memory, ...). Exported by
   libcfitsio but declared only in its internal fitsio2.h; used to walk headers before cfitsio
   parses them (FITSFile+Prescan.swift). */
int ffmbyt(fitsfile *fptr, LONGLONG bytpos, int ignore_err, int *status);
int ffgbyt(fitsfile *fptr, LONGLONG nbytes, void *buffer, int *status);
#endif
