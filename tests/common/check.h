/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A small TAP test harness. A failed CHECK ends the current case (longjmp)
 * and marks it "not ok"; the other cases still run. Meson reads the TAP.
 */
#pragma once

#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct check_case {
	const char *name;
	void (*fn)(void);
};

#define CHECK_CASE(fn) { #fn, fn }

/* Runs the cases named on the command line, or all; prints TAP. Returns the
 * process exit status. */
int check_run(const struct check_case *cases, size_t count, int argc, char **argv);

_Noreturn void check_fail(const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Ends the current case as skipped: only for what the machine cannot do. */
_Noreturn void check_skip(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void check_note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#define CHECK(cond)                                                              \
	do {                                                                     \
		if (!(cond))                                                     \
			check_fail(__FILE__, __LINE__, "%s", "CHECK(" #cond ")"); \
	} while (0)

#define CHECK_EQ(a, b)                                                              \
	do {                                                                        \
		uint64_t check_a_ = (uint64_t)(a), check_b_ = (uint64_t)(b);        \
		if (check_a_ != check_b_)                                           \
			check_fail(__FILE__, __LINE__,                              \
				   "%s == %s: 0x%" PRIx64 " != 0x%" PRIx64, #a, #b, \
				   check_a_, check_b_);                             \
	} while (0)

#define CHECK_STREQ(a, b)                                                             \
	do {                                                                          \
		const char *check_a_ = (a), *check_b_ = (b);                          \
		if (!check_a_ || !check_b_ || strcmp(check_a_, check_b_) != 0)       \
			check_fail(__FILE__, __LINE__, "%s == %s: \"%s\" != \"%s\"", \
				   #a, #b, check_a_ ? check_a_ : "(null)",            \
				   check_b_ ? check_b_ : "(null)");                   \
	} while (0)

/* expr returns 0 or a negative errno; expect that exact value. */
#define CHECK_RET(expr, expected)                                                       \
	do {                                                                            \
		long check_r_ = (long)(expr), check_e_ = (long)(expected);              \
		if (check_r_ != check_e_)                                               \
			check_fail(__FILE__, __LINE__, "%s returned %ld (%s), expected %ld (%s)", \
				   #expr, check_r_, strerror((int)-check_r_), check_e_,  \
				   strerror((int)-check_e_));                            \
	} while (0)

#define CHECK_OK(expr) CHECK_RET(expr, 0)

/* Counts the open fds of this process, for "nothing left behind" checks. */
int check_count_fds(void);
