/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The state on disk, version 2: a commit costs what changed.
 *
 *   <state>            the manifest: {"version": 2, "next_vm_id", "bound_devices"}
 *   <state>.d/vm<ID>.json   one VM each, as version 1 held it in "vms"
 *   <state>.intent     the call in flight (state-save.c)
 *
 * A commit writes the files of the VMs marked dirty (vm_mark_dirty), the
 * manifest only when its text changed, and removes the files of VMs that
 * are gone. Each file is replaced atomically (a temporary file, rename); on
 * tmpfs (/run) there is nothing to fsync for, elsewhere the file and its
 * directory are synced. Reading gives the version 1 document either way, so
 * version 2 reads version 1 and the parser (state-load.c) knows one format.
 */
#include "state.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "log.h"

#define VM_FILE_FMT "vm%u.json"

static void vms_dir(const struct daemon *d, char *buf, size_t len)
{
	snprintf(buf, len, "%s.d", d->state_path);
}

static int write_all(int fd, const char *buf, size_t len)
{
	while (len) {
		ssize_t n = write(fd, buf, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Whether the state survives a power loss at all: not on tmpfs. */
static bool durable(const char *path)
{
	char dir[4096], *slash;
	struct statfs st;

	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (slash && slash != dir)
		*slash = '\0';
	return statfs(dir, &st) < 0 || st.f_type != TMPFS_MAGIC;
}

static void sync_dir_of(const char *path)
{
	char dir[4096], *slash;
	int fd;

	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (!slash)
		return;
	*slash = '\0';
	fd = open(dir[0] ? dir : "/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		(void)fsync(fd);
		close(fd);
	}
}

int state_file_replace(struct daemon *d, const char *path, const char *text)
{
	char tmp[4200];
	int fd, r;

	if (d->state_durable < 0)
		d->state_durable = durable(path);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	r = write_all(fd, text, strlen(text));
	if (r == 0 && d->state_durable && fsync(fd) < 0)
		r = -errno;
	close(fd);
	if (r == 0 && rename(tmp, path) < 0)
		r = -errno;
	if (r < 0)
		unlink(tmp);
	else if (d->state_durable)
		sync_dir_of(path);
	return r;
}

void state_mark_all_dirty(struct daemon *d)
{
	vm_mark_all_dirty(d);
	free(d->state_manifest);
	d->state_manifest = NULL;
}

void state_vm_gone(struct daemon *d, unsigned int id)
{
	if (!d->state_path)
		return;
	if (d->nstate_gone == d->state_gone_cap) {
		size_t cap = d->state_gone_cap ? 2 * d->state_gone_cap : 16;
		unsigned int *grown = realloc(d->state_gone, cap * sizeof(*grown));

		if (!grown) {
			/* The file stays; adoption drops a VM whose fds are gone. */
			log_warning("cannot note that VM %u is gone from the state", id);
			return;
		}
		d->state_gone = grown;
		d->state_gone_cap = cap;
	}
	d->state_gone[d->nstate_gone++] = id;
}

static int write_manifest(struct daemon *d)
{
	struct json_object *o = NULL;
	const char *text;
	int r = state_manifest_to_json(d, STATE_VERSION, &o);

	if (r < 0)
		return r;
	text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
	if (!d->state_manifest || strcmp(d->state_manifest, text) != 0) {
		r = state_file_replace(d, d->state_path, text);
		free(d->state_manifest);
		d->state_manifest = r == 0 ? strdup(text) : NULL;
	}
	json_object_put(o);
	return r;
}

static int write_vm(struct daemon *d, const char *dir, struct vm *vm)
{
	struct json_object *o = state_vm_to_json(vm);
	char path[4200];
	int r;

	if (!o)
		return -ENOMEM;
	snprintf(path, sizeof(path), "%s/" VM_FILE_FMT, dir, vm->id);
	r = state_file_replace(d, path, json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
	json_object_put(o);
	if (r == 0)
		vm->state_dirty = false;
	return r;
}

int state_write(struct daemon *d)
{
	char dir[4096], path[4200];
	int r = 0, q;

	if (!d->state_path)
		return 0;
	vms_dir(d, dir, sizeof(dir));
	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		r = -errno;
	/* The manifest first: its next_vm_id stays above every VM file's ID, and
	 * a device it lists as ours is given back even if no VM file names it
	 * yet. Except over a version 1 file, which holds the VMs itself: it is
	 * replaced only once every VM has its own file. */
	q = d->state_legacy ? 0 : write_manifest(d);
	if (d->dirty_overflow) {
		for (struct vm *vm = d->vms; r == 0 && vm; vm = vm->next)
			if (vm->state_dirty)
				r = write_vm(d, dir, vm);
	} else {
		for (size_t i = 0; r == 0 && i < d->ndirty_vms; i++) {
			struct vm *vm = vm_by_id(d, d->dirty_vms[i]);

			/* Gone since: its file goes with state_gone. */
			if (vm && vm->state_dirty)
				r = write_vm(d, dir, vm);
		}
	}
	if (r == 0) {
		d->ndirty_vms = 0;
		d->dirty_overflow = false;
	}
	if (d->state_legacy && r == 0) {
		q = write_manifest(d);
		d->state_legacy = q < 0;
	}
	for (size_t i = 0; r == 0 && i < d->nstate_gone; i++) {
		snprintf(path, sizeof(path), "%s/" VM_FILE_FMT, dir, d->state_gone[i]);
		if (unlink(path) < 0 && errno != ENOENT)
			r = -errno;
	}
	if (r == 0)
		d->nstate_gone = 0;
	if (r == 0)
		r = q;
	if (r < 0)
		log_error("cannot write the state in %s: %s; a restart would lose the VMs",
			  d->state_path, strerror(-r));
	return r;
}

int state_read_text(const char *path, char **out, size_t *len)
{
	FILE *f = fopen(path, "re");
	char *buf = NULL;
	size_t size = 0;
	int r = 0;

	*out = NULL;
	if (!f)
		return errno == ENOENT ? 0 : -errno;
	{
		FILE *mem = open_memstream(&buf, &size);
		char chunk[65536];
		size_t n;

		if (!mem) {
			fclose(f);
			return -ENOMEM;
		}
		while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
			if (fwrite(chunk, 1, n, mem) != n)
				r = -ENOMEM;
		if (ferror(f))
			r = -EIO;
		fclose(mem);
	}
	fclose(f);
	if (r < 0) {
		free(buf);
		return r;
	}
	*out = buf;
	*len = size;
	return 1;
}

static int cmp_vm_id(const void *a, const void *b)
{
	unsigned int x = *(const unsigned int *)a, y = *(const unsigned int *)b;

	return x < y ? -1 : x > y;
}

/* The VM IDs that have a file in dir, sorted. */
static int list_vm_files(const char *dir, unsigned int **out, size_t *count)
{
	unsigned int *ids = NULL;
	size_t n = 0, cap = 0;
	struct dirent *e;
	DIR *dp = opendir(dir);

	*out = NULL;
	*count = 0;
	if (!dp)
		return errno == ENOENT ? 0 : -errno;
	while ((e = readdir(dp))) {
		char want[32];
		unsigned int id;

		/* Exactly "vm<ID>.json": not a temporary file a crash left. */
		if (sscanf(e->d_name, "vm%u.json", &id) != 1)
			continue;
		snprintf(want, sizeof(want), VM_FILE_FMT, id);
		if (strcmp(want, e->d_name) != 0)
			continue;
		if (n == cap) {
			unsigned int *grown;

			cap = cap ? 2 * cap : 64;
			grown = realloc(ids, cap * sizeof(*ids));
			if (!grown) {
				free(ids);
				closedir(dp);
				return -ENOMEM;
			}
			ids = grown;
		}
		ids[n++] = id;
	}
	closedir(dp);
	qsort(ids, n, sizeof(*ids), cmp_vm_id);
	*out = ids;
	*count = n;
	return 0;
}

/* A file the state cannot use is kept beside it, out of the way. */
static void set_aside(const char *path)
{
	char aside[4300];
	unsigned int *ids = NULL;
	size_t n = 0;

	snprintf(aside, sizeof(aside), "%s.corrupt", path);
	/* Only the latest is kept: an older directory is emptied first. */
	if (list_vm_files(aside, &ids, &n) == 0 && n > 0) {
		for (size_t i = 0; i < n; i++) {
			char file[4400];

			snprintf(file, sizeof(file), "%s/" VM_FILE_FMT, aside, ids[i]);
			unlink(file);
		}
		rmdir(aside);
	}
	free(ids);
	if (rename(path, aside) < 0)
		log_warning("cannot rename %s: %s", path, strerror(errno));
}

/* Folds the VM files into the manifest: the version 1 document. */
static int fold_vm_files(const char *dir, struct json_object *root)
{
	struct json_object *vms = json_object_new_array();
	unsigned int *ids = NULL;
	size_t n = 0;
	int r = vms ? list_vm_files(dir, &ids, &n) : -ENOMEM;

	for (size_t i = 0; r == 0 && i < n; i++) {
		char path[4200];
		struct json_object *vm;

		snprintf(path, sizeof(path), "%s/" VM_FILE_FMT, dir, ids[i]);
		vm = json_object_from_file(path);
		if (!vm || !json_object_is_type(vm, json_type_object)) {
			log_error("%s cannot be used (%s); it is kept as %s.corrupt and the VM's "
				  "fds as orphans",
				  path, json_util_get_last_err() ? json_util_get_last_err() : "not an object",
				  path);
			json_object_put(vm);
			set_aside(path);
			continue;
		}
		if (json_object_array_add(vms, vm) < 0) {
			json_object_put(vm);
			r = -ENOMEM;
		}
	}
	/* A crash between files cannot leave a VM at or above next_vm_id (the
	 * manifest goes first); should one be there all the same, it counts. */
	if (r == 0 && n > 0) {
		struct json_object *next;

		if (json_object_object_get_ex(root, "next_vm_id", &next) &&
		    json_object_is_type(next, json_type_int) &&
		    json_object_get_int64(next) >= 0 && json_object_get_int64(next) <= ids[n - 1])
			json_object_object_add(root, "next_vm_id",
					       json_object_new_int64((int64_t)ids[n - 1] + 1));
	}
	free(ids);
	if (r == 0 && json_object_object_add(root, "vms", vms) < 0)
		r = -ENOMEM;
	else if (r == 0)
		vms = NULL;
	json_object_put(vms);
	if (r == 0)
		r = json_object_object_add(root, "version", json_object_new_int(1)) < 0 ? -ENOMEM : 0;
	return r;
}

int state_files_read(struct daemon *d, char **out, size_t *len)
{
	struct json_object *root, *version;
	char dir[4096];
	int r;

	*out = NULL;
	*len = 0;
	if (access(d->state_path, F_OK) < 0)
		return errno == ENOENT ? 0 : -errno;
	root = json_object_from_file(d->state_path);
	/* Not JSON, or version 1: the parser judges the text as it is. */
	if (root && json_object_object_get_ex(root, "version", &version) &&
	    json_object_get_int64(version) == STATE_VERSION &&
	    !json_object_object_get_ex(root, "vms", NULL)) {
		vms_dir(d, dir, sizeof(dir));
		r = fold_vm_files(dir, root);
		if (r == 0) {
			*out = strdup(json_object_to_json_string_ext(root, JSON_C_TO_STRING_PLAIN));
			r = *out ? 1 : -ENOMEM;
		}
		json_object_put(root);
		if (r == 1)
			*len = strlen(*out);
		return r;
	}
	json_object_put(root);
	r = state_read_text(d->state_path, out, len);
	/* Version 1 (or unreadable): the file holds the VMs until they have theirs. */
	d->state_legacy = r > 0;
	return r;
}

void state_files_set_aside(struct daemon *d)
{
	char dir[4096];

	set_aside(d->state_path);
	vms_dir(d, dir, sizeof(dir));
	if (access(dir, F_OK) == 0)
		set_aside(dir);
}

/* What a crash between a write and its rename left: "vm<ID>.json.tmp". */
static void remove_temporaries(const char *dir)
{
	DIR *dp = opendir(dir);
	struct dirent *e;

	while (dp && (e = readdir(dp))) {
		size_t len = strlen(e->d_name);
		char path[4400];

		if (len > 4 && strcmp(e->d_name + len - 4, ".tmp") == 0) {
			snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
			unlink(path);
		}
	}
	if (dp)
		closedir(dp);
}

int state_files_resync(struct daemon *d)
{
	char dir[4096], path[4200];
	unsigned int *ids = NULL;
	size_t n = 0;
	int r;

	if (!d->state_path)
		return 0;
	vms_dir(d, dir, sizeof(dir));
	r = list_vm_files(dir, &ids, &n);
	for (size_t i = 0; r == 0 && i < n; i++) {
		bool known = vm_by_id(d, ids[i]) != NULL;

		snprintf(path, sizeof(path), "%s/" VM_FILE_FMT, dir, ids[i]);
		if (!known && unlink(path) < 0 && errno != ENOENT)
			r = -errno;
	}
	free(ids);
	remove_temporaries(dir);
	state_mark_all_dirty(d);
	return r;
}

void state_files_free(struct daemon *d)
{
	free(d->state_manifest);
	d->state_manifest = NULL;
	free(d->state_gone);
	d->state_gone = NULL;
	d->nstate_gone = d->state_gone_cap = 0;
}
