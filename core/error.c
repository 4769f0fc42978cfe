/* Error codes, their words, and the per-thread detail message. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "error.h"

static const struct {
	const char *name;
	const char *words;
} errors[] = {
	[0] = {"ok", "success"},
	[-SPN_ENOMEM] = {"no_memory", "out of memory"},
	[-SPN_EINVAL] = {"invalid", "invalid input"},
	[-SPN_EIO] = {"io", "input/output error"},
	[-SPN_ECONFIG] = {"config", "bad configuration"},
	[-SPN_ECRYPTO] = {"crypto", "cryptographic operation failed"},
	[-SPN_EBADCSR] = {"bad_csr", "malformed or unverifiable certificate request"},
	[-SPN_EBADCERT] = {"bad_certificate", "malformed or unacceptable certificate"},
	[-SPN_EBADSIG] = {"bad_signature", "signature does not verify"},
	[-SPN_EUNSUPPORTED] = {"unsupported", "unsupported algorithm or feature"},
	[-SPN_ETOOBIG] = {"too_big", "input exceeds its size limit"},
	[-SPN_ETOKEN] = {"bad_token", "join token is malformed or not valid"},
	[-SPN_ETOKENUSED] = {"token_used", "join token was already used"},
	[-SPN_ETOKENEXPIRED] = {"token_expired", "join token has expired"},
	[-SPN_EPOLICY] = {"policy", "refused by the group's policy"},
	[-SPN_ELIMIT] = {"limit", "a configured limit is reached"},
	[-SPN_EEXIST] = {"exists", "already exists"},
	[-SPN_ENOTFOUND] = {"not_found", "not found"},
	[-SPN_ELEDGER] = {"ledger", "ledger error"},
	[-SPN_EPASSPHRASE] = {"passphrase", "passphrase missing or wrong"},
	[-SPN_EREVOKED] = {"revoked", "certificate is revoked"},
	[-SPN_EEXPIRED] = {"expired", "expired or not yet valid"},
	[-SPN_EDENIED] = {"denied", "not authorised"},
	[-SPN_ESTATE] = {"state", "operation not possible in this state"},
	[-SPN_ERESYNC] = {"resync", "registry out of step; send it whole"},
	[-SPN_ENOPROVIDER] = {"no_provider", "no provider for the service"},
	[-SPN_ELOOP] = {"loop", "routing loop or hop limit reached"},
	[-SPN_EUNAVAILABLE] = {"unavailable", "the next node cannot be reached"},
	[-SPN_ETIMEOUT] = {"timeout", "the next node did not answer in time"},
	[-SPN_EBUSY] = {"busy", "too many requests waiting; try again"},
	[-SPN_ESESSION] = {"unknown_session", "no such session at this provider"},
	[-SPN_EREPLAY] = {"replay", "message already seen"},
	[-SPN_EPLUGIN] = {"plugin_failed", "the service did not complete the message"},
	[-SPN_ELEDGERLOST] = {"ledger_lost", "the ledger was moved or deleted while in use"},
	[-SPN_ESTANDBY] = {"standby", "this PSP is on standby; the group's other PSP serves"},
};

static _Thread_local char detail[1024];

static int known(int code)
{
	return code <= 0 && code > SPN_ELAST;
}

const char *spn_strerror(int code)
{
	return known(code) ? errors[-code].words : "unknown error";
}

const char *spn_errname(int code)
{
	return known(code) ? errors[-code].name : "unknown";
}

int spn_verr(int code, const char *fmt, va_list ap)
{
	char tmp[sizeof(detail)];

	/* The arguments may include spn_err_detail() itself: format aside. */
	vsnprintf(tmp, sizeof(tmp), fmt, ap);
	memcpy(detail, tmp, sizeof(detail));
	return code;
}

int spn_err(int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	spn_verr(code, fmt, ap);
	va_end(ap);
	return code;
}

const char *spn_err_detail(int code)
{
	return detail[0] ? detail : spn_strerror(code);
}

void spn_err_clear(void)
{
	detail[0] = '\0';
}
