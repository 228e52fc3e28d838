/* Shared by the harnesses that run a real API on a state directory: a
 * directory in /dev/shm made at start, emptied to start over, removed at
 * exit.  Header only: each harness is one program. */
#ifndef PXED_FUZZ_LAB_H
#define PXED_FUZZ_LAB_H

#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int
lab_remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void
lab_dir_remove(const char *dir)
{
	nftw(dir, lab_remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* dir (size >= 64) becomes /dev/shm/NAME.PID, made when the state is
 * (lab_dir_fresh).  libFuzzer ends a timed run without atexit handlers,
 * so the directories of NAME whose process is gone are removed here. */
static void
lab_dir_make(char *dir, size_t size, const char *name)
{
	DIR *d = opendir("/dev/shm");
	struct dirent *e;
	size_t n = strlen(name);
	char old[300];

	while (d != NULL && (e = readdir(d)) != NULL) {
		if (strncmp(e->d_name, name, n) != 0 || e->d_name[n] != '.')
			continue;
		long pid = strtol(e->d_name + n + 1, NULL, 10);
		if (pid > 0 && kill((pid_t)pid, 0) != 0 && errno == ESRCH) {
			snprintf(old, sizeof old, "/dev/shm/%s", e->d_name);
			lab_dir_remove(old);
		}
	}
	if (d != NULL)
		closedir(d);
	snprintf(dir, size, "/dev/shm/%s.%ld", name, (long)getpid());
}

/* dir emptied (made again), with the subdirectories given (NULL-ended). */
static void
lab_dir_fresh(const char *dir, const char *const *subdirs)
{
	lab_dir_remove(dir);
	if (mkdir(dir, 0700) != 0)
		abort();
	for (size_t i = 0; subdirs[i] != NULL; i++)
		if (mkdir(subdirs[i], 0700) != 0)
			abort();
}

#endif
