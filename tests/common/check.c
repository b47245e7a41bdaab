/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "check.h"

#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

static jmp_buf check_jump;
static bool check_skipped;

void check_fail(const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	printf("# %s:%d: ", file, line);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
	longjmp(check_jump, 1);
}

void check_skip(const char *fmt, ...)
{
	/* Under CI every case must run: a skip there is a failure. */
	const char *ci = getenv("CI");
	va_list ap;

	printf("# skip: ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	check_skipped = !(ci && strcmp(ci, "true") == 0);
	longjmp(check_jump, 1);
}

void check_note(const char *fmt, ...)
{
	va_list ap;

	printf("# ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
}

int check_count_fds(void)
{
	DIR *dir = opendir("/proc/self/fd");
	struct dirent *de;
	int count = 0;

	if (!dir)
		return -errno;
	while ((de = readdir(dir)))
		if (de->d_name[0] != '.')
			count++;
	closedir(dir);
	return count - 1; /* the directory's own fd */
}

static bool check_selected(const char *name, int argc, char **argv)
{
	if (argc < 2)
		return true;
	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], name) == 0)
			return true;
	return false;
}

int check_run(const struct check_case *cases, size_t count, int argc, char **argv)
{
	size_t planned = 0;
	volatile size_t number = 0; /* live across longjmp */
	volatile int failed = 0;

	setvbuf(stdout, NULL, _IOLBF, 0);
	for (size_t i = 0; i < count; i++)
		planned += check_selected(cases[i].name, argc, argv);
	if (planned == 0) {
		fprintf(stderr, "no test case matches the arguments\n");
		return 2;
	}
	printf("1..%zu\n", planned);
	for (size_t i = 0; i < count; i++) {
		if (!check_selected(cases[i].name, argc, argv))
			continue;
		number++;
		check_skipped = false;
		if (setjmp(check_jump) == 0) {
			cases[i].fn();
			printf("ok %zu - %s\n", number, cases[i].name);
		} else if (check_skipped) {
			printf("ok %zu - %s # SKIP\n", number, cases[i].name);
		} else {
			printf("not ok %zu - %s\n", number, cases[i].name);
			failed++;
		}
	}
	return failed ? 1 : 0;
}
