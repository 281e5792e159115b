// OpenBLAS for Swift: the CBLAS interface plus OpenBLAS's own controls, which the
// product uses to set the thread count explicitly and to report the core it tuned for.
#ifndef ACTIONLAB_COPENBLAS_SHIM_H
#define ACTIONLAB_COPENBLAS_SHIM_H

#include <cblas.h>

#endif
