#ifndef CDOSSIER_DEFLATE_SHIM_H
#define CDOSSIER_DEFLATE_SHIM_H
// libdeflate (libdeflate-dev): whole-buffer DEFLATE/gzip, about 3.5x faster than zlib at the
// same level on mail, with standard gzip output.
#include <libdeflate.h>
#endif
