/* SPDX-License-Identifier: MIT */
/*
 * In-core inodes (src/fs/icache.c): one shared copy per inode, freed with
 * its last reference unless dirty; a change a writer makes under the lock
 * is what every later snapshot sees; names obey e4_inode_read_named's rule.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "fs/icache.h"
#include "ondisk/ondisk.h"
#include "testutil.h"

static char *img;

static int group_setup(void **state)
{
	char *src = tu_sh_out("d='%s/src'; mkdir -p \"$d/dir\"; echo hello > \"$d/f\"; printf %%s \"$d\"",
			      tu_tmpdir());
	(void)state;
	img = tu_mkfs("icache.img", "-b 4096", src, "16M");
	free(src);
	return 0;
}

static void test_shared_and_freed(void **state)
{
	struct e4_fs *fs;
	struct e4_ino *a, *b;
	struct e4_inode snap, disk;
	uint32_t f = tu_ino_of(img, "/f");

	(void)state;
	assert_int_equal(tu_open(img, &fs), 0);
	assert_int_equal(e4_iget(fs, f, &a), 0);
	assert_int_equal(e4_iget(fs, f, &b), 0);
	assert_ptr_equal(a, b);
	assert_int_equal(e4_icache_count(fs->icache), 1);
	e4_ino_snapshot(a, &snap);
	assert_int_equal(e4_inode_read(fs, f, &disk), 0);
	assert_memory_equal(&snap, &disk, sizeof(snap));
	assert_int_equal(e4_ino_number(a), f);
	e4_iput(fs, a);
	assert_int_equal(e4_icache_count(fs->icache), 1);
	e4_iput(fs, b);
	assert_int_equal(e4_icache_count(fs->icache), 0);
	assert_int_equal(e4_iget(fs, 0, &a), -EINVAL);
	assert_int_equal(e4_iget(fs, 100000, &a), -EINVAL);
	assert_int_equal(e4_iget(fs, 1000, &a), -ENOENT);	/* free */
	tu_close(fs);
}

static void test_changes_seen_everywhere(void **state)
{
	struct e4_fs *fs;
	struct e4_ino *w, *r;
	struct e4_inode snap;
	uint32_t f = tu_ino_of(img, "/f");

	(void)state;
	assert_int_equal(tu_open(img, &fs), 0);
	assert_int_equal(e4_iget(fs, f, &w), 0);
	assert_int_equal(e4_iget(fs, f, &r), 0);
	e4_ino_lock(w);
	w->inode.size = 123456;	/* a write extended the file in memory */
	e4_ino_mark_dirty(w);
	e4_ino_unlock(w);
	e4_ino_snapshot(r, &snap);
	assert_int_equal(snap.size, 123456);
	assert_int_equal(w->disksize, 6);	/* "hello\n" on disk */
	/* a dirty inode outlives its references: the write path owns it */
	e4_iput(fs, w);
	e4_iput(fs, r);
	assert_int_equal(e4_icache_count(fs->icache), 1);
	assert_int_equal(e4_iget(fs, f, &r), 0);
	e4_ino_snapshot(r, &snap);
	assert_int_equal(snap.size, 123456);
	e4_iput(fs, r);
	tu_close(fs);	/* frees it */
}

/* A snapshot by the thread that holds the inode for writing (a name in
 * the directory it changes naming that directory) reads it and leaves
 * the writer's lock held, released once. */
static void test_snapshot_by_writer(void **state)
{
	struct e4_fs *fs;
	struct e4_ino *ip;
	struct e4_inode snap;

	(void)state;
	assert_int_equal(tu_open(img, &fs), 0);
	assert_int_equal(e4_iget(fs, E4_ROOT_INO, &ip), 0);
	e4_ino_lock(ip);
	ip->inode.size = 8192;
	e4_ino_snapshot(ip, &snap);
	assert_int_equal(snap.size, 8192);
	/* still held: another thread could not take it now */
	assert_int_equal(pthread_rwlock_tryrdlock(&ip->lock), EBUSY);
	e4_ino_unlock(ip);
	assert_int_equal(pthread_rwlock_trywrlock(&ip->lock), 0);
	assert_int_equal(pthread_rwlock_unlock(&ip->lock), 0);
	e4_iput(fs, ip);
	tu_close(fs);
}

static void test_named(void **state)
{
	struct e4_fs *fs;
	struct e4_ino *ip;

	(void)state;
	assert_int_equal(tu_open(img, &fs), 0);
	tu_log_clear();
	assert_int_equal(e4_iget_named(fs, 2, "j", 8, &ip), -EUCLEAN);
	tu_assert_log("inode 2: directory entry 'j' names reserved inode 8");
	assert_int_equal(e4_iget_named(fs, 2, "free", 1000, &ip), -EUCLEAN);
	tu_assert_log("inode 2: directory entry 'free' names free inode 1000");
	/* node ids: silent */
	tu_log_clear();
	assert_int_equal(e4_iget_named(fs, 0, NULL, 8, &ip), -EINVAL);
	assert_int_equal(e4_iget_named(fs, 0, NULL, 1000, &ip), -ENOENT);
	assert_string_equal(tu_log(), "");
	assert_int_equal(e4_iget_named(fs, 2, "f", tu_ino_of(img, "/f"), &ip), 0);
	e4_iput(fs, ip);
	assert_int_equal(e4_icache_count(fs->icache), 0);
	tu_close(fs);
}

struct race {
	struct e4_fs *fs;
	uint32_t ino;
	int errors;
};

static void *get_put(void *arg)
{
	struct race *r = arg;

	for (int i = 0; i < 20000; i++) {
		struct e4_ino *ip;
		struct e4_inode snap;

		if (e4_iget(r->fs, r->ino, &ip)) {
			r->errors++;
			continue;
		}
		e4_ino_snapshot(ip, &snap);
		if (snap.ino != r->ino)
			r->errors++;
		e4_iput(r->fs, ip);
	}
	return NULL;
}

static void test_concurrent(void **state)
{
	struct e4_fs *fs;
	struct race r[4];
	pthread_t t[4];

	(void)state;
	assert_int_equal(tu_open(img, &fs), 0);
	for (int i = 0; i < 4; i++) {
		r[i] = (struct race){ fs, i % 2 ? 2 : tu_ino_of(img, "/f"), 0 };
		pthread_create(&t[i], NULL, get_put, &r[i]);
	}
	for (int i = 0; i < 4; i++) {
		pthread_join(t[i], NULL);
		assert_int_equal(r[i].errors, 0);
	}
	assert_int_equal(e4_icache_count(fs->icache), 0);
	tu_close(fs);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_shared_and_freed),
		cmocka_unit_test(test_changes_seen_everywhere),
		cmocka_unit_test(test_snapshot_by_writer),
		cmocka_unit_test(test_named),
		cmocka_unit_test(test_concurrent),
	};
	return cmocka_run_group_tests(tests, group_setup, NULL);
}
