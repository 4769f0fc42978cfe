/* Error codes of libspn, their names and words, and the per-thread detail
 * message that says which file, field or check an error came from. */
#pragma once

#include <stdarg.h>

enum {
	SPN_OK = 0,
	SPN_ENOMEM = -1,
	SPN_EINVAL = -2,
	SPN_EIO = -3,
	SPN_ECONFIG = -4,
	SPN_ECRYPTO = -5,
	SPN_EBADCSR = -6,
	SPN_EBADCERT = -7,
	SPN_EBADSIG = -8,
	SPN_EUNSUPPORTED = -9,
	SPN_ETOOBIG = -10,
	SPN_ETOKEN = -11,
	SPN_ETOKENUSED = -12,
	SPN_ETOKENEXPIRED = -13,
	SPN_EPOLICY = -14,
	SPN_ELIMIT = -15,
	SPN_EEXIST = -16,
	SPN_ENOTFOUND = -17,
	SPN_ELEDGER = -18,
	SPN_EPASSPHRASE = -19,
	SPN_EREVOKED = -20,
	SPN_EEXPIRED = -21,
	SPN_EDENIED = -22,
	SPN_ESTATE = -23,
	SPN_ERESYNC = -24,
	SPN_ENOPROVIDER = -25,
	SPN_ELOOP = -26,
	SPN_EUNAVAILABLE = -27,
	SPN_ETIMEOUT = -28,
	SPN_EBUSY = -29,
	SPN_ESESSION = -30,
	SPN_EREPLAY = -31,
	SPN_EPLUGIN = -32,
	SPN_ELEDGERLOST = -33,
	SPN_ESTANDBY = -34,
	SPN_ELAST = -35,
};

/* Words for an error code; never NULL, valid for the life of the program. */
const char *spn_strerror(int code);

/* A stable machine-readable name for an error code ("bad_csr"). */
const char *spn_errname(int code);

/* Records a detail message for the calling thread and returns code, so that
 * a failing path reads `return spn_err(SPN_EBADCSR, "...", ...)`. */
int spn_err(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int spn_verr(int code, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));

/* The last detail message of this thread, or spn_strerror(code) when none
 * was recorded since spn_err_clear(). Valid until the next spn_err call. */
const char *spn_err_detail(int code);
void spn_err_clear(void);
