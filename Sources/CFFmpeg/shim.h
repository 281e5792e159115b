// FFmpeg (libavformat, libavcodec, libswscale, libavutil) for Swift.
// FFmpeg reports errors as negative codes built by macros (AVERROR, AVERROR_EOF,
// FFERRTAG) that Swift cannot import; they are re-exported as inline functions.
#ifndef ACTIONLAB_CFFMPEG_SHIM_H
#define ACTIONLAB_CFFMPEG_SHIM_H

#include <errno.h>
#include <libavformat/avformat.h>
#include <libavcodec/avcodec.h>
#include <libswscale/swscale.h>
#include <libavutil/avutil.h>
#include <libavutil/error.h>
#include <libavutil/imgutils.h>
#include <libavutil/opt.h>
#include <libavutil/pixdesc.h>

static inline int cffmpeg_averror_eof(void) { return AVERROR_EOF; }
static inline int cffmpeg_averror_eagain(void) { return AVERROR(EAGAIN); }
static inline int cffmpeg_averror_enomem(void) { return AVERROR(ENOMEM); }
static inline int cffmpeg_averror_invalid_data(void) { return AVERROR_INVALIDDATA; }
static inline int cffmpeg_averror(int errnum) { return AVERROR(errnum); }
// AV_NOPTS_VALUE is an integer-constant macro with a cast Swift does not import.
static inline int64_t cffmpeg_nopts_value(void) { return AV_NOPTS_VALUE; }
static inline AVRational cffmpeg_time_base_q(void) { return AV_TIME_BASE_Q; }
static inline int cffmpeg_error_max_string_size(void) { return AV_ERROR_MAX_STRING_SIZE; }

#endif
