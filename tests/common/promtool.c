/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "promtool.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"

void check_promtool(const char *text)
{
	char path[] = "/tmp/viommu-metrics-XXXXXX", cmd[128], out[4096];
	const char *ci = getenv("CI");
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
	snprintf(cmd, sizeof(cmd), "promtool check metrics <%s 2>&1", path);
	p = popen(cmd, "r");
	n = p ? fread(out, 1, sizeof(out) - 1, p) : 0;
	out[n] = '\0';
	status = p ? pclose(p) : -1;
	unlink(path);
	if (n)
		check_note("promtool: %s", out);
	CHECK_EQ(status, 0);
	CHECK_EQ(n, 0);
}
