#ifndef ASTROTOOL_CZLIB_SHIM_H
#define ASTROTOOL_CZLIB_SHIM_H
#include <zlib.h>
/* inflateInit2 is a function-like macro (it passes the library version and struct size).
   15 + 32: the largest window, gzip or zlib header detected automatically. */
static inline int astro_inflate_init(z_stream *stream) {
    return inflateInit2(stream, 15 + 32);
}
#endif
