/* SPDX-License-Identifier: MIT */
/*
 * -o lost_found: the virtual directory of what no directory names (see
 * lost_found.h).  The scan runs once, when the directory is first looked
 * into, under a lock the other requests for it wait on; its result stays
 * for the session (a read-only mount: nothing changes).
 */
#include <stdio.h>
#include <string.h>

#include "e4/format.h"
#include "fuse/lost_found.h"
#include "fuse/session.h"

const char *e4f_lost_found_name_refusal(const char *name)
{
	size_t len = strlen(name);

	if (len == 0)
		return "empty";
	if (len > E4_NAME_MAX)
		return "longer than 255 bytes";
	if (strchr(name, '/'))
		return "a name cannot hold '/'";
	if (!strcmp(name, ".") || !strcmp(name, ".."))
		return "'.' and '..' are taken";
	return NULL;
}

int e4f_lost_found_check(struct e4_fs *fs, const struct e4_inode *root,
			 const char *name)
{
	uint32_t ino;
	int err = e4_dir_lookup_mode(fs, root, name, strlen(name),
				     E4_DIR_SALVAGE, &ino, NULL);

	if (err == -ENOENT)
		return 0;
	if (err == 0) {
		fprintf(stderr,
			"e4fuse: lost_found: the root has an entry named '%s' (inode %u), which the virtual directory would hide: choose another name with -o lost_found=NAME\n",
			name, ino);
		return -EEXIST;
	}
	if (err == -EUCLEAN) {
		/* the library named the damaged block */
		fprintf(stderr,
			"e4fuse: lost_found: the root directory has a damaged block: if an entry named '%s' was in it, it cannot be read, and the virtual directory takes its name\n",
			name);
		return 0;
	}
	fprintf(stderr, "e4fuse: lost_found: looking up '%s' in the root: %s\n",
		name, strerror(-err));
	return err;
}

void e4f_lost_found_init(struct e4f_lost_found *l, struct e4_fs *fs,
			 const char *name)
{
	struct e4_inode root;

	memset(l, 0, sizeof(*l));
	pthread_mutex_init(&l->lock, NULL);
	if (!name)
		return;
	l->name = name;
	l->name_len = strlen(name);
	if (e4_inode_read(fs, E4_ROOT_INO, &root) == 0)
		l->when = root.mtime;
}

void e4f_lost_found_destroy(struct e4f_lost_found *l)
{
	e4_unreachable_free(l->tops);
	l->tops = NULL;
	pthread_mutex_destroy(&l->lock);
}

bool e4f_lost_found_is_node(const struct e4f_session *s, uint64_t nodeid)
{
	return s->lost.name && nodeid == E4F_LOST_NODEID;
}

bool e4f_lost_found_named(const struct e4f_session *s, uint64_t parent,
			  const char *name, size_t len)
{
	const struct e4f_lost_found *l = &s->lost;

	return l->name && parent == 1 && len == l->name_len &&
	       memcmp(name, l->name, len) == 0;
}

void e4f_lost_found_inode(const struct e4f_session *s, struct e4_inode *out)
{
	memset(out, 0, sizeof(*out));
	out->ino = E4F_LOST_INO;
	out->mode = E4_S_IFDIR | 0700;
	out->links = 2;
	out->atime = out->mtime = out->ctime = s->lost.when;
}

/* The scan, run by the first request that needs it. */
static int tops_get(struct e4f_session *s, const struct e4_unreachable **out)
{
	struct e4f_lost_found *l = &s->lost;
	struct e4_unreachable_stats st;
	int err;

	pthread_mutex_lock(&l->lock);
	if (!l->scanned) {
		err = e4_unreachable_scan(s->fs, &l->tops);
		/* out of memory (logged with the size) may pass: try again */
		l->scanned = err != -ENOMEM;
		l->err = err;
		if (!err) {
			e4_unreachable_get_stats(l->tops, &st);
			e4f_log(E4_LOG_INFO,
				"lost_found: %llu inodes in use, %llu unreachable, %llu at the top of their subtrees shown (%llu empty files left out, %llu unreadable skipped); %llu bytes of bitmaps",
				(unsigned long long)st.in_use,
				(unsigned long long)st.unreachable,
				(unsigned long long)st.tops,
				(unsigned long long)st.empty,
				(unsigned long long)st.unreadable,
				(unsigned long long)st.memory);
		} else {
			e4f_log(E4_LOG_ERROR,
				"lost_found: cannot find the unreachable inodes: %s",
				strerror(-err));
		}
	}
	err = l->err;
	*out = l->tops;
	pthread_mutex_unlock(&l->lock);
	return err;
}

int e4f_lost_found_lookup(struct e4f_session *s, const char *name, size_t len,
			  uint32_t *ino)
{
	const struct e4_unreachable *u;
	int err;

	if (e4_unreachable_name_parse(name, len, ino) != len)
		return -ENOENT;
	err = tops_get(s, &u);
	if (err)
		return err;
	return e4_unreachable_has(u, *ino) ? 0 : -ENOENT;
}

static int emit(e4_dir_cb cb, void *ctx, uint32_t ino, uint8_t ftype,
		const char *name, size_t len, uint64_t next_pos)
{
	struct e4_dirent d = { .ino = ino, .ftype = ftype,
			       .name_len = (uint8_t)len,
			       .next_pos = next_pos };

	memcpy(d.name, name, len);
	d.name[len] = '\0';
	return cb(ctx, &d);
}

/* Positions: 0 the start, 1 after ".", 2 after "..", INO + 2 after #INO. */
int e4f_lost_found_iterate(struct e4f_session *s, uint64_t pos, e4_dir_cb cb,
			   void *ctx)
{
	const struct e4_unreachable *u;
	int rc = tops_get(s, &u);

	if (rc)
		return rc;
	if (pos == 0 && (rc = emit(cb, ctx, E4F_LOST_INO, E4_FT_DIR, ".", 1, 1)))
		return rc;
	if (pos <= 1 &&
	    (rc = emit(cb, ctx, E4_ROOT_INO, E4_FT_DIR, "..", 2, 2)))
		return rc;
	if (pos > (uint64_t)UINT32_MAX + 2)
		return 0;
	for (uint32_t ino = e4_unreachable_next(u, pos <= 2 ? 0 :
							   (uint32_t)(pos - 2));
	     ino; ino = e4_unreachable_next(u, ino)) {
		char name[E4_UNREACHABLE_NAME_MAX];
		size_t len = e4_unreachable_name(ino, name);

		/* the type comes with the attributes (READDIRPLUS) or a
		 * LOOKUP: unknown here, as a dirent may leave it */
		rc = emit(cb, ctx, ino, E4_FT_UNKNOWN, name, len,
			  (uint64_t)ino + 2);
		if (rc)
			return rc;
	}
	return 0;
}

void e4f_lost_found_root_entry(const struct e4f_session *s,
			       struct e4_dirent *out)
{
	const struct e4f_lost_found *l = &s->lost;

	memset(out, 0, sizeof(*out));
	out->ino = E4F_LOST_INO;
	out->ftype = E4_FT_DIR;
	out->name_len = (uint8_t)l->name_len;
	memcpy(out->name, l->name, l->name_len);
	out->next_pos = E4F_LOST_ROOT_POS;
}
