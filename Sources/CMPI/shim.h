// Open MPI for Swift. Open MPI names its predefined handles (MPI_COMM_WORLD, the
// datatypes MPI_FLOAT and MPI_DOUBLE, the operations MPI_SUM, ...) through macros that
// take the address of global symbols, and MPI_IN_PLACE is a cast pointer constant;
// Swift imports none of these, so each is re-exported as an inline function.
#ifndef ACTIONLAB_CMPI_SHIM_H
#define ACTIONLAB_CMPI_SHIM_H

#include <mpi.h>

static inline MPI_Comm cmpi_comm_world(void) { return MPI_COMM_WORLD; }
static inline MPI_Comm cmpi_comm_null(void) { return MPI_COMM_NULL; }
static inline MPI_Info cmpi_info_null(void) { return MPI_INFO_NULL; }

static inline MPI_Datatype cmpi_float(void) { return MPI_FLOAT; }
static inline MPI_Datatype cmpi_double(void) { return MPI_DOUBLE; }
static inline MPI_Datatype cmpi_int32(void) { return MPI_INT32_T; }
static inline MPI_Datatype cmpi_uint64(void) { return MPI_UINT64_T; }

static inline MPI_Op cmpi_sum(void) { return MPI_SUM; }
static inline MPI_Op cmpi_max(void) { return MPI_MAX; }

// Integer constants that some MPI implementations declare in anonymous enums and others
// as macros; as functions they have one type (int) in Swift either way.
static inline int cmpi_success(void) { return MPI_SUCCESS; }
static inline int cmpi_thread_serialized(void) { return MPI_THREAD_SERIALIZED; }
static inline int cmpi_comm_type_shared(void) { return MPI_COMM_TYPE_SHARED; }

// Passed as the send buffer of a reduction to reduce into the receive buffer itself.
static inline void *cmpi_in_place(void) { return MPI_IN_PLACE; }

#endif
