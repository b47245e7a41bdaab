/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * viommud.conf: reading the file and parsing it: the text is checked
 * (config-text.c), then every key goes to its handler, driven by the key
 * table in config-keys.c. Also the error messages all the parts write.
 */
#include "config-internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysinfo.h>

/* "source: path: why". Returns r so callers can "return config_fail(...)". */
int config_fail(struct parser *p, int r, const char *path, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (!p->err || !p->errlen)
		return r;
	n = snprintf(p->err, p->errlen, "%s: ", p->source);
	if (path && n >= 0 && (size_t)n < p->errlen)
		n += snprintf(p->err + n, p->errlen - n, "%s: ", path);
	if (n >= 0 && (size_t)n < p->errlen) {
		va_start(ap, fmt);
		vsnprintf(p->err + n, p->errlen - n, fmt, ap);
		va_end(ap);
	}
	return r;
}

/* A string for a message: quoted, escaped, shortened; never a raw control byte. */
const char *config_quote(char *buf, size_t size, const char *s, size_t len)
{
	size_t o = 0, limit = size - 12; /* room for an escape, the ellipsis, quote and NUL */

	buf[o++] = '"';
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (o >= limit) {
			o += (size_t)snprintf(buf + o, size - o, "...");
			break;
		}
		if (c == '"' || c == '\\')
			o += (size_t)snprintf(buf + o, size - o, "\\%c", c);
		else if (c < 0x20 || c == 0x7f)
			o += (size_t)snprintf(buf + o, size - o, "\\u%04x", c);
		else
			buf[o++] = (char)c;
	}
	buf[o++] = '"';
	buf[o] = '\0';
	return buf;
}

/* Half the host's memory: see quota_pinned_bytes_per_uid in viommud.conf(5). */
static uint64_t config_default_pinned_bytes(void)
{
	struct sysinfo si;

	if (sysinfo(&si) < 0 || si.totalram == 0)
		return 1ull << 30; /* cannot tell: small, never unlimited */
	return (uint64_t)si.totalram * si.mem_unit / 2;
}

static int config_alloc(struct config **out)
{
	struct config *c = calloc(1, sizeof(*c));

	if (!c)
		return -ENOMEM;
	c->restore_driver = true;
	c->quota_vms = CONFIG_QUOTA_VMS_DEFAULT;
	c->quota_objects = CONFIG_QUOTA_OBJECTS_DEFAULT;
	c->quota_connections = CONFIG_QUOTA_CONNECTIONS_DEFAULT;
	c->quota_pinned_bytes = config_default_pinned_bytes();
	c->quota_queued_messages = CONFIG_QUOTA_QUEUED_DEFAULT;
	c->connection_stall_seconds = CONFIG_CONNECTION_STALL_DEFAULT;
	c->claim_grace_seconds = CONFIG_CLAIM_GRACE_DEFAULT;
	c->quota_message_fds = CONFIG_QUOTA_MESSAGE_FDS_DEFAULT;
	c->quota_message_bytes = CONFIG_QUOTA_MESSAGE_BYTES_DEFAULT;
	c->memlock_headroom = CONFIG_MEMLOCK_HEADROOM_DEFAULT;
	*out = c;
	return 0;
}

int config_new_default(struct config **out)
{
	return config_alloc(out);
}

int config_parse(const char *text, size_t len, const char *source, struct config **out,
		 char *err, size_t errlen)
{
	_cleanup_(json_putp) struct json_object *root = NULL;
	_cleanup_free_ char *copy = NULL;
	struct parser p = {
		.source = source ? source : "<config>",
		.len = len,
		.err = err,
		.errlen = errlen,
	};
	struct config *c = NULL;
	int r;

	if (err && errlen)
		err[0] = '\0';
	*out = NULL;
	if (len > CONFIG_FILE_MAX)
		return config_fail(&p, -EFBIG, NULL, "is larger than %d bytes (1 MiB)",
				   CONFIG_FILE_MAX);
	/* A NUL-terminated copy: json-c and the checks below read up to len + 1. */
	copy = malloc(len + 1);
	if (!copy)
		return config_fail(&p, -ENOMEM, NULL, "out of memory");
	memcpy(copy, text, len);
	copy[len] = '\0';
	p.text = copy;

	r = config_check_encoding(&p);
	if (r < 0)
		return r;
	r = config_parse_json(&p, &root);
	if (r < 0)
		return r;
	r = config_check_text(&p);
	if (r < 0)
		return r;
	r = config_alloc(&c);
	if (r < 0)
		return config_fail(&p, r, NULL, "out of memory");
	p.config = c;
	if (source) {
		c->path = strdup(source);
		if (!c->path)
			r = config_fail(&p, -ENOMEM, NULL, "out of memory");
	}
	if (r >= 0)
		r = config_apply_keys(&p, root);
	if (r < 0) {
		config_free(c);
		return r;
	}
	*out = c;
	return 0;
}

/* Reads at most CONFIG_FILE_MAX + 1 bytes, so a file that grows is caught too. */
static int read_file(struct parser *p, int fd, char **out, size_t *len)
{
	_cleanup_free_ char *buf = malloc(CONFIG_FILE_MAX + 1);
	size_t n = 0;

	if (!buf)
		return config_fail(p, -ENOMEM, NULL, "out of memory");
	while (n <= CONFIG_FILE_MAX) {
		ssize_t k = read(fd, buf + n, CONFIG_FILE_MAX + 1 - n);

		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			return config_fail(p, -errno, NULL, "cannot read: %s", strerror(errno));
		if (k == 0)
			break;
		n += (size_t)k;
	}
	if (n > CONFIG_FILE_MAX)
		return config_fail(p, -EFBIG, NULL, "is larger than %d bytes (1 MiB)",
				   CONFIG_FILE_MAX);
	*out = buf;
	buf = NULL;
	*len = n;
	return 0;
}

int config_load(const char *path, bool required, struct config **out, char *err, size_t errlen)
{
	struct parser p = { .err = err, .errlen = errlen };
	_cleanup_free_ char *text = NULL;
	_cleanup_(closep) int fd = -1;
	struct stat st;
	size_t len = 0;
	int r;

	if (err && errlen)
		err[0] = '\0';
	*out = NULL;
	if (!path)
		path = CONFIG_DEFAULT_PATH;
	p.source = path;
	/* O_NONBLOCK: a FIFO in its place must not hang the daemon. */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0 && errno == ENOENT && !required)
		return config_alloc(out);
	if (fd < 0)
		return config_fail(&p, -errno, NULL, "cannot open: %s", strerror(errno));
	if (fstat(fd, &st) < 0)
		return config_fail(&p, -errno, NULL, "cannot stat: %s", strerror(errno));
	if (S_ISDIR(st.st_mode))
		return config_fail(&p, -EISDIR, NULL, "is a directory, not a file");
	if (!S_ISREG(st.st_mode))
		return config_fail(&p, -EINVAL, NULL, "is not a regular file");
	if (st.st_size > CONFIG_FILE_MAX)
		return config_fail(&p, -EFBIG, NULL, "is larger than %d bytes (1 MiB)",
				   CONFIG_FILE_MAX);
	r = read_file(&p, fd, &text, &len);
	if (r < 0)
		return r;
	return config_parse(text, len, path, out, err, errlen);
}

void config_free(struct config *config)
{
	if (!config)
		return;
	free(config->path);
	free(config->devices);
	free(config->vm_users.ids);
	free(config->vm_groups.ids);
	free(config->fast_path_users.ids);
	free(config->fast_path_groups.ids);
	free(config);
}
