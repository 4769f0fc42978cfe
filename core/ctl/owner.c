/* Hands a node's directory to the user its service runs as: spnctl runs as
 * root to write it, spnd reads and renews it as that user. */
#include "config.h"

#include <errno.h>
#include <ftw.h>
#include <pwd.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "error.h"
#include "spnctl.h"

/* nftw hands its callback no user data. */
static uid_t owner_uid;
static gid_t owner_gid;

int spnctl_owner(const char *name, spnctl_owner_t *out)
{
	struct passwd pw, *res = NULL;
	char buf[1024];

	if (getpwnam_r(name, &pw, buf, sizeof(buf), &res) != 0 || !res)
		return spn_err(SPN_ECONFIG, "--user: no user '%s'", name);
	out->uid = pw.pw_uid;
	out->gid = pw.pw_gid;
	return 0;
}

static int give_one(const char *path, const struct stat *st, int type, struct FTW *f)
{
	(void)st;
	(void)f;
	if (type == FTW_SL)
		return 0;
	if (lchown(path, owner_uid, owner_gid) != 0)
		return spn_err(SPN_EIO, "%s: %s", path, strerror(errno));
	return 0;
}

int spnctl_give(const char *dir, const spnctl_owner_t *o)
{
	int rc;

	/* Its keys are 0600 already; the directory keeps them from others. */
	if (chmod(dir, 0700) != 0)
		return spn_err(SPN_EIO, "%s: %s", dir, strerror(errno));
	owner_uid = o->uid;
	owner_gid = o->gid;
	rc = nftw(dir, give_one, 16, FTW_PHYS);
	return rc < 0 ? spn_err(SPN_EIO, "%s: %s", dir, strerror(errno)) : rc;
}
