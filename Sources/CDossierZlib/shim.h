#ifndef CDOSSIER_ZLIB_SHIM_H
#define CDOSSIER_ZLIB_SHIM_H
#include <zlib.h>
#endif
