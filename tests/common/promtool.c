/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "promtool.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"

void check_promtool(const char *text)
{
	char path[] = "/tmp/viommu-metrics-XXXXXX", cmd[128], out[4096], rest[4096];
	const char *ci = getenv("CI");
	bool truncated = false;
	size_t n;
	FILE *p;
	int fd, status;

	if (system("command -v promtool >/dev/null 2>&1") != 0) {
		if (ci && strcmp(ci, "true") == 0)
			check_fail(__FILE__, __LINE__, "CI=true and no promtool: install prometheus "
				   "(scripts/install-deps.sh)");
		check_skip("no promtool (the prometheus package)");
	}
	CHECK(text);
	fd = mkstemp(path);
	CHECK(fd >= 0);
	n = strlen(text);
	if (write(fd, text, n) != (ssize_t)n) {
		close(fd);
		unlink(path);
		check_fail(__FILE__, __LINE__, "cannot write %s", path);
	}
	close(fd);
	CHECK(snprintf(cmd, sizeof(cmd), "promtool check metrics <%s 2>&1", path) <
	      (int)sizeof(cmd));
	p = popen(cmd, "r");
	n = p ? fread(out, 1, sizeof(out) - 1, p) : 0;
	out[n] = '\0';
	/* Read to the end: a promtool blocked on a full pipe would hang pclose. */
	while (p && fread(rest, 1, sizeof(rest), p) > 0)
		truncated = true;
	status = p ? pclose(p) : -1;
	unlink(path);
	if (n)
		check_note("promtool: %s%s", out, truncated ? " [...]" : "");
	CHECK_EQ(status, 0);
	CHECK_EQ(n, 0);
}
