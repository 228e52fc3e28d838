/* reset-password: the local accounts of a Windows installation (an NTFS
 * partition holding Windows/System32/config/SAM), listed, or one of them
 * given a blank password (its LM and NT hashes and their histories zeroed
 * and removed), unlocked and enabled when asked.
 *
 * libhivex finds the account's F and V values and where their data lie in
 * the hive; the bytes are changed in place in a copy of the hive (same
 * size: nothing else in the hive moves) by sam.c, the copy is checked by
 * parsing it again, the original is saved beside it as
 * SAM.pxed-TASK.bak, and only then is SAM rewritten.  Hashes are never
 * logged, reported or sent: the report holds names, RIDs and flags. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent/agent.h"
#include "agent/hive.h"
#include "agent/journal.h"
#include "agent/parts.h"
#include "agent/sam.h"
#include "core/util.h"
#include "image/fsfile.h"

#define SAM_PATH        "/Windows/System32/config/SAM"
#define SAM_MAX         (64u << 20)
#define INSTALLS_MAX    8
#define ACCOUNTS_MAX    1024
#define VALUE_MAX       65536

struct install {
	char disk[TASK_DISK_MAX];
	struct partition part;
};

struct finder {
	struct agent *ag;
	struct install found[INSTALLS_MAX];
	size_t n;
	char encrypted[256];            /* BitLocker partitions seen, for the message */
};

static int
find_one(void *arg, const char *disk, int fd, const struct partition *p, enum fs_kind kind)
{
	struct finder *f = arg;
	struct fs_volume *v;
	char err[256];
	uint8_t *sam = NULL;
	size_t len;

	if (kind == FS_BITLOCKER) {
		size_t o = strlen(f->encrypted);
		snprintf(f->encrypted + o, sizeof f->encrypted - o, "%s%s partition %u",
		    o ? ", " : "", disk, p->index);
		return 0;
	}
	if (kind != FS_NTFS || fs_volume_open(fd, p->offset, p->length, FS_NTFS, false, &v,
	    err, sizeof err) < 0)
		return 0;
	if (fs_file_read(v, SAM_PATH, SAM_MAX, &sam, &len, err, sizeof err) == 0 &&
	    f->n < INSTALLS_MAX) {
		str_copy(f->found[f->n].disk, disk, sizeof f->found[f->n].disk);
		f->found[f->n++].part = *p;
	}
	free(sam);
	fs_volume_close(v);
	return 0;
}

/* --windows N or DISK:N picks one installation. */
static bool
install_matches(const struct install *in, const char *want)
{
	const char *colon = strrchr(want, ':');
	char num[16];

	snprintf(num, sizeof num, "%u", in->part.index);
	if (colon == NULL)
		return strcmp(want, num) == 0;
	return strncmp(want, in->disk, (size_t)(colon - want)) == 0 &&
	    in->disk[colon - want] == '\0' && strcmp(colon + 1, num) == 0;
}

static int
winpass_choose(struct agent *ag, struct finder *f, struct install *out)
{
	char names[512] = "";
	size_t o = 0, match = 0;

	for (size_t i = 0; i < f->n; i++) {
		o += (size_t)snprintf(names + o, sizeof names - MIN(o, sizeof names), "%s%s:%u",
		    i ? ", " : "", f->found[i].disk, f->found[i].part.index);
		o = MIN(o, sizeof names - 1);
		if (ag->task.windows[0] != '\0' && install_matches(&f->found[i], ag->task.windows)) {
			*out = f->found[i];
			match++;
		}
	}
	if (f->n == 0)
		return agent_fail(ag, "no Windows installation found (no NTFS partition holds "
		    "Windows/System32/config/SAM)%s%s%s", f->encrypted[0] ? "; encrypted with "
		    "BitLocker, not searched: " : "", f->encrypted, "");
	if (ag->task.windows[0] != '\0' && match != 1)
		return agent_fail(ag, "--windows %s names no installation (found: %s)",
		    ag->task.windows, names);
	if (ag->task.windows[0] == '\0' && f->n > 1)
		return agent_fail(ag, "several Windows installations (%s): choose one with "
		    "--windows DISK:PARTITION", names);
	if (ag->task.windows[0] == '\0')
		*out = f->found[0];
	return 0;
}

/* ---- the accounts of a hive ---- */

struct account {
	struct sam_user u;
	size_t f_at, f_len, v_at, v_len;        /* where F's and V's data lie in the hive */
};

/* A value's bytes and where they lie in the hive (the data cell plus its
 * 4-byte size), checked to be the same bytes. */
static int
value_place(struct hive *hv, const uint8_t *sam, size_t len, hive_node_h node,
    const char *key, uint8_t **data, size_t *dlen, size_t *at)
{
	hive_type t;
	size_t cell_len = 0;
	int rc = hive_value_bytes(hv, node, key, VALUE_MAX, data, dlen, &t);
	hive_value_h val = hivex_node_get_value(hive_handle(hv), node, key);
	hive_value_h cell = val != 0 ? hivex_value_data_cell_offset(hive_handle(hv), val,
	    &cell_len) : 0;

	if (rc < 0)
		return rc;
	*at = (size_t)cell + 4;
	if (cell == 0 || *at > len || *dlen > len - *at || memcmp(sam + *at, *data, *dlen) != 0)
		return -EINVAL;
	return 0;
}

static int
account_read(struct hive *hv, const uint8_t *sam, size_t len, hive_node_h user,
    struct account *a)
{
	uint8_t *f = NULL, *v = NULL;
	size_t flen = 0, vlen = 0;
	int rc = value_place(hv, sam, len, user, "F", &f, &flen, &a->f_at);

	if (rc == 0)
		rc = value_place(hv, sam, len, user, "V", &v, &vlen, &a->v_at);
	if (rc == 0)
		rc = sam_user_parse(f, flen, v, vlen, &a->u);
	a->f_len = flen;
	a->v_len = vlen;
	free(f);
	free(v);
	return rc;
}

/* Every account of SAM\Domains\Account\Users (its RID keys). */
static int
accounts_read(const uint8_t *sam, size_t len, struct account *out, size_t max, size_t *n,
    char *err, size_t errlen)
{
	static const char *const users_path[] = { "SAM", "Domains", "Account", "Users" };
	struct hive *hv;
	hive_node_h users, *kids;
	int rc = hive_open(sam, len, false, &hv);

	*n = 0;
	if (rc < 0) {
		snprintf(err, errlen, "the SAM hive is damaged: libhivex cannot read it (%s)",
		    strerror(-rc));
		return rc;
	}
	users = hive_find(hv, users_path, ARRAY_SIZE(users_path));
	kids = users != 0 ? hivex_node_children(hive_handle(hv), users) : NULL;
	if (kids == NULL) {
		snprintf(err, errlen, "the SAM hive has no SAM\\Domains\\Account\\Users key");
		hive_close(hv);
		return -EINVAL;
	}
	for (size_t i = 0; kids[i] != 0 && *n < max && rc == 0; i++) {
		char *name = hivex_node_name(hive_handle(hv), kids[i]);
		if (name != NULL && strlen(name) == 8 && strspn(name, "0123456789ABCDEFabcdef") == 8) {
			rc = account_read(hv, sam, len, kids[i], &out[*n]);
			if (rc < 0)
				snprintf(err, errlen, "the SAM hive is damaged: account %s", name);
			else
				(*n)++;
		}
		free(name);
	}
	free(kids);
	hive_close(hv);
	return rc;
}

static json_t *
accounts_json(const struct account *a, size_t n)
{
	json_t *arr = json_array();

	for (size_t i = 0; arr != NULL && i < n; i++)
		json_array_append_new(arr, json_pack("{s:s,s:I,s:b,s:b,s:b}", "name", a[i].u.name,
		    "rid", (json_int_t)a[i].u.rid, "disabled", a[i].u.disabled, "locked",
		    a[i].u.locked, "password", a[i].u.has_password));
	return arr;
}

/* ---- the reset ---- */

struct reset {
	struct agent *ag;
	const struct install *in;
	struct account acc[ACCOUNTS_MAX];
	size_t nacc;
	char done[AGENT_ERR_MAX];
};

/* The hive's two sequence numbers differ while its logs hold changes
 * Windows has not written into it: editing it then would be undone. */
static bool
hive_clean(const uint8_t *sam, size_t len)
{
	return len >= 12 && memcmp(sam, "regf", 4) == 0 && memcmp(sam + 4, sam + 8, 4) == 0;
}

static int
reset_patch(struct reset *r, uint8_t *sam, size_t len, const struct account *a)
{
	struct account check[ACCOUNTS_MAX];
	char err[256];
	size_t n;
	const struct agent_task *t = &r->ag->task;

	if (sam_v_blank(sam + a->v_at, a->v_len) < 0 ||
	    sam_f_change(sam + a->f_at, a->f_len, t->unlock, t->enable) < 0)
		return agent_fail(r->ag, "account %s: its F or V value is damaged", a->u.name);
	/* the changed hive parses again, and says what was asked */
	if (accounts_read(sam, len, check, ACCOUNTS_MAX, &n, err, sizeof err) < 0)
		return agent_fail(r->ag, "the changed SAM hive does not read back: %s", err);
	for (size_t i = 0; i < n; i++)
		if (check[i].u.rid == a->u.rid && (check[i].u.has_password ||
		    (t->unlock && check[i].u.locked) || (t->enable && check[i].u.disabled)))
			return agent_fail(r->ag, "the changed SAM hive does not say what was asked");
	return 0;
}

static int
reset_write(struct reset *r, struct fs_volume *v, const uint8_t *orig, const uint8_t *sam,
    size_t len)
{
	char bak[128], err[256];
	uint8_t *old = NULL;
	size_t oldlen = 0;
	int rc;

	snprintf(bak, sizeof bak, SAM_PATH ".pxed-%" PRId64 ".bak", r->ag->task.id);
	rc = fs_file_create(v, bak, orig, len, err, sizeof err);
	if (rc == -EEXIST) {
		/* this task ran before: its backup is the hive as it was then */
		if (fs_file_read(v, bak, SAM_MAX, &old, &oldlen, err, sizeof err) == 0)
			rc = 0;
		free(old);
	}
	if (rc < 0)
		return agent_fail(r->ag, "the backup %s: %s", bak, err);
	if (fs_file_write(v, SAM_PATH, sam, len, err, sizeof err) < 0)
		return agent_fail(r->ag, "%s: %s", SAM_PATH, err);
	journal_info("reset-password: the hive as it was is in %s", bak);
	return 0;
}

static const struct account *
reset_find(struct reset *r)
{
	for (size_t i = 0; i < r->nacc; i++)
		if (sam_user_name_equal(r->acc[i].u.name, r->ag->task.user))
			return &r->acc[i];
	return NULL;
}

static int
reset_account(struct reset *r, struct fs_volume *v, uint8_t *sam, size_t len)
{
	const struct account *a = reset_find(r);
	uint8_t *orig;
	int rc;

	if (a == NULL)
		return agent_fail(r->ag, "no local account \"%s\" in %s partition %u (%zu accounts:"
		    " see pxectl task reset-password --list)", r->ag->task.user, r->in->disk,
		    r->in->part.index, r->nacc);
	if (!hive_clean(sam, len))
		return agent_fail(r->ag, "the SAM hive has changes in its logs that Windows has "
		    "not written into it (its sequence numbers differ): boot Windows once, then "
		    "try again; nothing written");
	orig = malloc(len);
	if (orig == NULL)
		return agent_fail(r->ag, "out of memory");
	memcpy(orig, sam, len);
	rc = reset_patch(r, sam, len, a);
	if (rc == 0)
		rc = reset_write(r, v, orig, sam, len);
	free(orig);
	if (rc == 0)
		snprintf(r->done, sizeof r->done, "account %.64s (RID %" PRIu32 ") on %.128s "
		    "partition %u: password blanked%s%s", a->u.name, a->u.rid, r->in->disk,
		    r->in->part.index,
		    r->ag->task.unlock ? ", unlocked" : "", r->ag->task.enable ? ", enabled" : "");
	return rc;
}

/* write: the reset; else the accounts read. */
static int
winpass_on(struct reset *r, int fd, bool write)
{
	struct fs_volume *v;
	uint8_t *sam = NULL;
	size_t len = 0;
	char err[256];
	int rc = fs_volume_open(fd, r->in->part.offset, r->in->part.length, FS_NTFS, write, &v,
	    err, sizeof err);

	if (rc < 0)
		return agent_fail(r->ag, "%s partition %u: %s", r->in->disk, r->in->part.index, err);
	rc = fs_file_read(v, SAM_PATH, SAM_MAX, &sam, &len, err, sizeof err);
	if (rc < 0)
		rc = agent_fail(r->ag, "%s: %s", SAM_PATH, err);
	if (rc == 0 && accounts_read(sam, len, r->acc, ACCOUNTS_MAX, &r->nacc, err,
	    sizeof err) < 0)
		rc = agent_fail(r->ag, "%s partition %u: %s; nothing written", r->in->disk,
		    r->in->part.index, err);
	if (rc == 0 && write)
		rc = reset_account(r, v, sam, len);
	free(sam);
	if (fs_volume_close(v) < 0 && rc == 0)
		rc = agent_fail(r->ag, "%s partition %u: writing NTFS back failed", r->in->disk,
		    r->in->part.index);
	return rc;
}

static int
winpass_report(struct reset *r)
{
	struct agent *ag = r->ag;

	/* after a reset: the accounts as the written hive has them */
	ag->report = json_pack("{s:s,s:s,s:i,s:o}", "kind", ag->task.list ? "accounts" :
	    "reset-password", "disk", r->in->disk, "partition", (int)r->in->part.index,
	    "accounts", accounts_json(r->acc, r->nacc));
	if (ag->task.list)
		snprintf(r->done, sizeof r->done, "%zu local accounts on %.128s partition %u",
		    r->nacc, r->in->disk, r->in->part.index);
	return 0;
}

int
winpass_run(struct agent *ag, char *done, size_t size)
{
	struct finder *f = calloc(1, sizeof *f);
	struct reset *r = calloc(1, sizeof *r);
	struct install in;
	int rc = f != NULL && r != NULL ? 0 : agent_fail(ag, "out of memory"), fd = -1;

	if (rc == 0) {
		f->ag = ag;
		rc = parts_each(ag, false, find_one, f);
	}
	if (rc == 0)
		rc = winpass_choose(ag, f, &in);
	if (rc == 0 && (fd = open(in.disk, (ag->task.list ? O_RDONLY : O_RDWR) | O_CLOEXEC)) < 0)
		rc = agent_fail(ag, "%s: %s", in.disk, strerror(errno));
	if (rc == 0) {
		r->ag = ag;
		r->in = &in;
		rc = winpass_on(r, fd, !ag->task.list);
	}
	if (rc == 0 && !ag->task.list && fdatasync(fd) < 0)
		rc = agent_fail(ag, "%s: sync: %s", in.disk, strerror(errno));
	if (rc == 0 && !ag->task.list)
		rc = winpass_on(r, fd, false);  /* the accounts as the disk now has them */
	if (rc == 0)
		rc = winpass_report(r);
	if (rc == 0)
		str_copy(done, r->done, size);
	if (fd >= 0)
		close(fd);
	free(f);
	free(r);
	return rc;
}
