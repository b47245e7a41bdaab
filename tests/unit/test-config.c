/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * viommud.conf: every key valid and invalid, the exact error sentences, name
 * resolution, the policy questions, and loading files (missing, too big).
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <sys/sysinfo.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "config.h"

#define SRC "test.conf"

static char err[1024];

/* Parses text as SRC; the caller frees the config. */
static int parse(const char *text, struct config **out)
{
	return config_parse(text, strlen(text), SRC, out, err, sizeof(err));
}

static struct config *parse_ok(const char *text)
{
	struct config *c = NULL;
	int r = parse(text, &c);

	if (r < 0)
		check_fail(__FILE__, __LINE__, "parse of %s failed: %d: %s", text, r, err);
	CHECK(c);
	return c;
}

/* Names the input in the TAP output, on one line, printable. */
static void note_input(const char *text)
{
	char buf[256];
	size_t o = 0;

	for (; *text && o < sizeof(buf) - 5; text++) {
		unsigned char ch = (unsigned char)*text;

		if (ch == '\n')
			o += (size_t)snprintf(buf + o, sizeof(buf) - o, "\\n");
		else if (ch < 0x20 || ch >= 0x7f)
			o += (size_t)snprintf(buf + o, sizeof(buf) - o, "\\x%02x", ch);
		else
			buf[o++] = (char)ch;
	}
	buf[o] = '\0';
	check_note("input: %s", buf);
}

/* Expects the exact sentence; on a mismatch prints both. */
static void expect_error(const char *text, int expected, const char *sentence)
{
	struct config *c = (struct config *)1;

	note_input(text);
	CHECK_RET(parse(text, &c), expected);
	CHECK(c == NULL);
	CHECK_STREQ(err, sentence);
}

static void test_defaults(void)
{
	struct config *c = NULL;

	CHECK_OK(config_new_default(&c));
	CHECK(c->path == NULL);
	CHECK_EQ(c->ndevices, 0);
	CHECK_EQ(c->vm_users.count + c->vm_groups.count, 0);
	CHECK_EQ(c->fast_path_users.count + c->fast_path_groups.count, 0);
	CHECK(!c->bind_on_demand);
	CHECK(c->restore_driver);
	CHECK_EQ(c->mock_devices, 0);
	CHECK(!config_device_allowed(c, "0000:00:01.0", 0x8086, 0x10d3));
	CHECK(config_may_create_vm(c, 0, 0, NULL, 0));
	CHECK(config_may_take_fast_path(c, 0, 0, NULL, 0));
	CHECK(!config_may_create_vm(c, 1000, 1000, NULL, 0));
	CHECK(!config_may_take_fast_path(c, 1000, 1000, NULL, 0));
	/* Pins are finite by default: half the host's memory. */
	{
		struct sysinfo si;

		CHECK(sysinfo(&si) == 0);
		CHECK(c->quota_pinned_bytes > 0);
		CHECK_EQ(c->quota_pinned_bytes, (uint64_t)si.totalram * si.mem_unit / 2);
	}
	CHECK_EQ(c->connection_stall_seconds, 30);
	config_free(c);

	/* An empty object is the same as no file. */
	c = parse_ok("{}");
	CHECK_STREQ(c->path, SRC);
	CHECK(!c->bind_on_demand);
	CHECK(c->restore_driver);
	CHECK_EQ(c->mock_devices, 0);
	CHECK_EQ(c->ndevices, 0);
	config_free(c);

	/* No config at all: only root. */
	CHECK(config_may_create_vm(NULL, 0, 0, NULL, 0));
	CHECK(!config_may_create_vm(NULL, 1, 1, NULL, 0));
	CHECK(!config_device_allowed(NULL, "0000:00:01.0", 1, 2));
	config_free(NULL);
}

static void test_bools(void)
{
	struct config *c = parse_ok("{ \"bind_on_demand\": true, \"restore_driver\": false }");

	CHECK(c->bind_on_demand);
	CHECK(!c->restore_driver);
	config_free(c);
	c = parse_ok("{ \"bind_on_demand\": false, \"restore_driver\": true }");
	CHECK(!c->bind_on_demand);
	CHECK(c->restore_driver);
	config_free(c);

	expect_error("{ \"bind_on_demand\": 1 }", -EINVAL,
		     SRC ": bind_on_demand: must be a boolean (true or false), not an integer (1)");
	expect_error("{ \"restore_driver\": \"yes\" }", -EINVAL,
		     SRC ": restore_driver: must be a boolean (true or false), not a string (\"yes\")");
	expect_error("{ \"restore_driver\": null }", -EINVAL,
		     SRC ": restore_driver: must be a boolean (true or false), not null");
}

static void test_mock_devices(void)
{
	struct config *c = parse_ok("{ \"mock_devices\": 4 }");

	CHECK_EQ(c->mock_devices, 4);
	config_free(c);
	c = parse_ok("{ \"mock_devices\": 64 }");
	CHECK_EQ(c->mock_devices, CONFIG_MOCK_DEVICES_MAX);
	config_free(c);
	c = parse_ok("{ \"mock_devices\": 0 }");
	CHECK_EQ(c->mock_devices, 0);
	config_free(c);

	expect_error("{ \"mock_devices\": 65 }", -EINVAL,
		     SRC ": mock_devices: 65 is out of range (0 to 64)");
	expect_error("{ \"mock_devices\": -1 }", -EINVAL,
		     SRC ": mock_devices: -1 is out of range (0 to 64)");
	expect_error("{ \"mock_devices\": 99999999999999999999 }", -EINVAL,
		     SRC ": mock_devices: 18446744073709551615 is out of range (0 to 64)");
	expect_error("{ \"mock_devices\": 1.5 }", -EINVAL,
		     SRC ": mock_devices: must be an integer, not a fractional number (1.5)");
	expect_error("{ \"mock_devices\": \"4\" }", -EINVAL,
		     SRC ": mock_devices: must be an integer, not a string (\"4\")");
	expect_error("{ \"mock_devices\": [4] }", -EINVAL,
		     SRC ": mock_devices: must be an integer, not an array");
}

static void test_devices(void)
{
	struct config *c = parse_ok("{ \"allowed_devices\": [ \"0000:00:1F.7\", \"8086:10D3\","
				    " \"10000:3a:00.0\", \"1af4:1041\" ] }");

	CHECK_EQ(c->ndevices, 4);
	CHECK(!c->devices[0].by_id);
	CHECK_STREQ(c->devices[0].bdf, "0000:00:1f.7");
	CHECK(c->devices[1].by_id);
	CHECK_EQ(c->devices[1].vendor, 0x8086);
	CHECK_EQ(c->devices[1].device, 0x10d3);
	CHECK_STREQ(c->devices[2].bdf, "10000:3a:00.0");

	/* By address, in any case; the IDs of an address entry do not matter. */
	CHECK(config_device_allowed(c, "0000:00:1f.7", 0x1234, 0x5678));
	CHECK(config_device_allowed(c, "0000:00:1F.7", 0x1234, 0x5678));
	CHECK(config_device_allowed(c, "10000:3a:00.0", 0x1234, 0x5678));
	CHECK(!config_device_allowed(c, "0000:00:1f.6", 0x1234, 0x5678));
	CHECK(!config_device_allowed(c, "0001:00:1f.7", 0x1234, 0x5678));
	/* By ID, at any address. */
	CHECK(config_device_allowed(c, "0000:05:00.0", 0x8086, 0x10d3));
	CHECK(config_device_allowed(c, "0000:06:00.0", 0x1af4, 0x1041));
	CHECK(config_device_allowed(c, NULL, 0x8086, 0x10d3));
	CHECK(!config_device_allowed(c, "0000:05:00.0", 0x8086, 0x10d4));
	CHECK(!config_device_allowed(c, "0000:05:00.0", 0x10d3, 0x8086));
	CHECK(!config_device_allowed(c, "garbage", 0, 0));
	config_free(c);

	c = parse_ok("{ \"allowed_devices\": [] }");
	CHECK_EQ(c->ndevices, 0);
	CHECK(!config_device_allowed(c, "0000:00:01.0", 0x8086, 0x10d3));
	config_free(c);
}

static void test_devices_bad(void)
{
	static const struct {
		const char *text, *sentence;
	} bad[] = {
		{ "{ \"allowed_devices\": [ \"0000:00:01.0\", \"8086:10d3\", \"0000:00:1g.0\" ] }",
		  SRC ": allowed_devices[2]: \"0000:00:1g.0\" is neither a PCI address (dddd:bb:dd.f) "
		      "nor a vendor:device ID (vvvv:dddd)" },
		{ "{ \"allowed_devices\": [ \"0000:00:20.0\" ] }",
		  SRC ": allowed_devices[0]: \"0000:00:20.0\" is neither a PCI address (dddd:bb:dd.f) "
		      "nor a vendor:device ID (vvvv:dddd)" },
		{ "{ \"allowed_devices\": [ \"8086:10d3x\" ] }",
		  SRC ": allowed_devices[0]: \"8086:10d3x\" is neither a PCI address (dddd:bb:dd.f) "
		      "nor a vendor:device ID (vvvv:dddd)" },
		{ "{ \"allowed_devices\": [ \"00:1f.0\" ] }",
		  SRC ": allowed_devices[0]: \"00:1f.0\" lacks the PCI domain; write it as \"0000:00:1f.0\"" },
		{ "{ \"allowed_devices\": [ \"0000:00:01.0\", \"0000:00:01.0\" ] }",
		  SRC ": allowed_devices[1]: \"0000:00:01.0\" is already listed as allowed_devices[0]" },
		{ "{ \"allowed_devices\": [ \"0000:00:01.0\", \"0000:00:01.1\", \"0000:00:01.0\" ] }",
		  SRC ": allowed_devices[2]: \"0000:00:01.0\" is already listed as allowed_devices[0]" },
		{ "{ \"allowed_devices\": [ \"8086:10d3\", \"8086:10D3\" ] }",
		  SRC ": allowed_devices[1]: \"8086:10D3\" is already listed as allowed_devices[0]" },
		{ "{ \"allowed_devices\": [ 42 ] }",
		  SRC ": allowed_devices[0]: must be a string (a PCI address or a vendor:device ID), "
		      "not an integer (42)" },
		{ "{ \"allowed_devices\": [ \"\" ] }", SRC ": allowed_devices[0]: is empty" },
		{ "{ \"allowed_devices\": [ \"a\\u0000b\" ] }",
		  SRC ": allowed_devices[0]: contains a NUL character (\\u0000)" },
		{ "{ \"allowed_devices\": \"0000:00:01.0\" }",
		  SRC ": allowed_devices: must be an array, not a string (\"0000:00:01.0\")" },
		{ "{ \"allowed_devices\": { \"a\": 1 } }",
		  SRC ": allowed_devices: must be an array, not an object" },
		{ "{ \"allowed_devices\": [ \"\\u001b[31m\" ] }",
		  SRC ": allowed_devices[0]: \"\\u001b[31m\" is neither a PCI address (dddd:bb:dd.f) "
		      "nor a vendor:device ID (vvvv:dddd)" },
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		expect_error(bad[i].text, -EINVAL, bad[i].sentence);
		CHECK(strstr(err, "allowed_devices"));
	}
}

static bool have_user(const char *name, uid_t *uid)
{
	struct passwd *pw = getpwnam(name);

	if (pw)
		*uid = pw->pw_uid;
	return pw != NULL;
}

static void test_names(void)
{
	struct config *c = parse_ok("{ \"vm_users\": [ \"root\", 1000 ], \"vm_groups\": [ \"root\", 4242 ],"
				    " \"fast_path_users\": [ 0 ], \"fast_path_groups\": [] }");
	uid_t nobody;

	CHECK_EQ(c->vm_users.count, 2);
	CHECK_EQ(c->vm_users.ids[0], 0);
	CHECK_EQ(c->vm_users.ids[1], 1000);
	CHECK_EQ(c->vm_groups.count, 2);
	CHECK_EQ(c->vm_groups.ids[0], 0);
	CHECK_EQ(c->vm_groups.ids[1], 4242);
	CHECK_EQ(c->fast_path_users.count, 1);
	CHECK_EQ(c->fast_path_groups.count, 0);
	config_free(c);

	if (!have_user("nobody", &nobody))
		check_skip("no user \"nobody\" on this machine");
	c = parse_ok("{ \"fast_path_users\": [ \"nobody\" ] }");
	CHECK_EQ(c->fast_path_users.count, 1);
	CHECK_EQ(c->fast_path_users.ids[0], nobody);
	config_free(c);
}

static void test_names_bad(void)
{
	static const struct {
		const char *text, *sentence, *path;
	} bad[] = {
		{ "{ \"vm_users\": [ \"root\", \"no-such-user-viommud\" ] }",
		  SRC ": vm_users[1]: no such user \"no-such-user-viommud\"", "vm_users[1]" },
		{ "{ \"vm_groups\": [ \"no-such-group-viommud\" ] }",
		  SRC ": vm_groups[0]: no such group \"no-such-group-viommud\"", "vm_groups[0]" },
		{ "{ \"fast_path_users\": [ \"1000000\" ] }",
		  SRC ": fast_path_users[0]: no such user \"1000000\"; write a numeric id as a number, "
		      "without quotes", "fast_path_users[0]" },
		{ "{ \"fast_path_groups\": [ -1 ] }",
		  SRC ": fast_path_groups[0]: -1 is not a valid gid (0 to 4294967294)",
		  "fast_path_groups[0]" },
		{ "{ \"vm_users\": [ 4294967295 ] }",
		  SRC ": vm_users[0]: 4294967295 is not a valid uid (0 to 4294967294)", "vm_users[0]" },
		{ "{ \"vm_users\": [ \"root\", 0 ] }",
		  SRC ": vm_users[1]: uid 0 is already listed as vm_users[0]", "vm_users[1]" },
		{ "{ \"vm_groups\": [ 5, 5 ] }",
		  SRC ": vm_groups[1]: gid 5 is already listed as vm_groups[0]", "vm_groups[1]" },
		{ "{ \"vm_users\": [ true ] }",
		  SRC ": vm_users[0]: must be a user name or a uid, not a boolean (true)", "vm_users[0]" },
		{ "{ \"vm_groups\": [ 1.0 ] }",
		  SRC ": vm_groups[0]: must be a group name or a gid, not a fractional number (1.0)",
		  "vm_groups[0]" },
		{ "{ \"vm_users\": \"root\" }",
		  SRC ": vm_users: must be an array, not a string (\"root\")", "vm_users" },
		{ "{ \"fast_path_groups\": [ \"\" ] }", SRC ": fast_path_groups[0]: is empty",
		  "fast_path_groups[0]" },
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		expect_error(bad[i].text, -EINVAL, bad[i].sentence);
		CHECK(strstr(err, bad[i].path));
	}
}

static void test_policy(void)
{
	struct config *c = parse_ok("{ \"vm_users\": [ 1000 ], \"vm_groups\": [ 2000 ],"
				    " \"fast_path_users\": [ 1001 ], \"fast_path_groups\": [ 3000 ] }");
	gid_t supp[] = { 10, 3000 }, other[] = { 10, 11 };

	/* Root may always, whatever its groups. */
	CHECK(config_may_create_vm(c, 0, 12345, NULL, 0));
	CHECK(config_may_take_fast_path(c, 0, 12345, NULL, 0));
	/* By uid. */
	CHECK(config_may_create_vm(c, 1000, 100, NULL, 0));
	CHECK(!config_may_take_fast_path(c, 1000, 100, NULL, 0));
	CHECK(config_may_take_fast_path(c, 1001, 100, NULL, 0));
	CHECK(!config_may_create_vm(c, 1001, 100, NULL, 0));
	/* By primary gid. */
	CHECK(config_may_create_vm(c, 5000, 2000, NULL, 0));
	CHECK(!config_may_take_fast_path(c, 5000, 2000, NULL, 0));
	CHECK(config_may_take_fast_path(c, 5000, 3000, NULL, 0));
	/* By a supplementary group. */
	CHECK(config_may_take_fast_path(c, 5000, 100, supp, 2));
	CHECK(!config_may_create_vm(c, 5000, 100, supp, 2));
	CHECK(!config_may_take_fast_path(c, 5000, 100, other, 2));
	CHECK(!config_may_take_fast_path(c, 5000, 100, supp, 1)); /* ngroups is honoured */
	/* A uid is not a gid. */
	CHECK(!config_may_create_vm(c, 2000, 100, NULL, 0));
	CHECK(!config_may_create_vm(c, 5000, 1000, NULL, 0));
	/* Nobody's "no uid" matches nothing. */
	CHECK(!config_may_create_vm(c, (uid_t)-1, (gid_t)-1, NULL, 0));
	config_free(c);
}

static void test_structure_bad(void)
{
	static const struct {
		const char *text, *sentence;
	} bad[] = {
		{ "{ \"bind_on_demand\": true, \"bindondemand\": true }",
		  SRC ": \"bindondemand\": unknown key; did you mean \"bind_on_demand\"?" },
		{ "{ \"Mock-Devices\": 1 }",
		  SRC ": \"Mock-Devices\": unknown key; did you mean \"mock_devices\"?" },
		{ "{ \"quota\": 1 }", SRC ": \"quota\": unknown key; see viommud.conf(5) for the keys" },
		{ "{ \"x\\ny\": 1 }", SRC ": \"x\\u000ay\": unknown key; see viommud.conf(5) for the keys" },
		{ "[ 1 ]", SRC ": the top level must be a JSON object ({...}), not an array" },
		{ "42", SRC ": the top level must be a JSON object ({...}), not an integer (42)" },
		{ "\"s\"", SRC ": the top level must be a JSON object ({...}), not a string (\"s\")" },
		{ "null", SRC ": the top level must be a JSON object ({...}), not null" },
		{ "", SRC ": is empty; a file with no settings is {}" },
		{ " \n\t", SRC ": is empty; a file with no settings is {}" },
		{ "{}\n{}", SRC ": line 2, column 1: syntax error: trailing garbage after the JSON value" },
		{ "{} x", SRC ": line 1, column 4: syntax error: trailing garbage after the JSON value" },
		{ "{\n  \"mock_devices\": 1,\n}",
		  SRC ": line 3, column 1: syntax error: unexpected character" },
		{ "{\n  \"allowed_devices\": [\n    \"0000:00:01.0\"\n    \"0000:00:02.0\"\n  ]\n}",
		  SRC ": line 4, column 5: syntax error: array value separator ',' expected" },
		{ "{ \"mock_devices\": 1", SRC ": line 1, column 20: syntax error: the file ends inside a value" },
		{ "{ \"a\": tru }", SRC ": line 1, column 11: syntax error: boolean expected" },
		{ "// comment\n{}", SRC ": line 1, column 1: syntax error: unexpected character" },
		{ "{ 'mock_devices': 1 }",
		  SRC ": line 1, column 3: syntax error: single quotes; JSON strings take double quotes" },
		{ "{ \"allowed_devices\": [ \"a\tb\" ] }",
		  SRC ": line 1, column 26: syntax error: control character in a string; escape it "
		      "(\\n, \\t, \\u00XX)" },
		{ "{ \"mock_devices\": 1,\n  \"mock_devices\": 2 }",
		  SRC ": line 2, column 3: key \"mock_devices\" given twice (first at line 1, column 3)" },
		/* Keys compare decoded: an escape is no way around "given twice". */
		{ "{ \"vm_users\": [0], \"vm\\u005fusers\": [1] }", 
		  SRC ": line 1, column 20: key \"vm_users\" given twice (first at line 1, column 3)" },
		{ "{ \"mock_devices\\u0000junk\": 3 }", 
		  SRC ": line 1, column 3: a key contains a NUL character (\\u0000)" },
		{ "{ \"mock_devices\": 1, \"mock_devices\\u0000\": 2 }", 
		  SRC ": line 1, column 22: a key contains a NUL character (\\u0000)" },
		{ "{ \"a\": \"\xc3\xa9\xff\" }", SRC ": line 1, column 10: not valid UTF-8 (byte 0xff)" },
		{ "{ \"a\": \"\xc0\xaf\" }", SRC ": line 1, column 9: not valid UTF-8 (byte 0xc0)" },
		{ "{ \"a\": \"\xed\xa0\x80\" }", SRC ": line 1, column 9: not valid UTF-8 (byte 0xed)" },
		{ "\xef\xbb\xbf{}", SRC ": starts with a byte order mark; save it as UTF-8 without one" },
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		expect_error(bad[i].text, -EINVAL, bad[i].sentence);
	}

	/* A NUL byte in the text (not the JSON escape). */
	{
		struct config *c = NULL;

		CHECK_RET(config_parse("{}\0{}", 5, SRC, &c, err, sizeof(err)), -EINVAL);
		CHECK_STREQ(err, SRC ": line 1, column 3: NUL byte in the file");
	}
	/* Nested keys with the name of a top-level key are not duplicates of it. */
	{
		struct config *c = NULL;

		CHECK_RET(parse("{ \"mock_devices\": 1, \"x\": { \"mock_devices\": 2 } }", &c), -EINVAL);
		CHECK_STREQ(err, SRC ": \"x\": unknown key; see viommud.conf(5) for the keys");
	}
}

static void test_every_key(void)
{
	struct config *c = parse_ok("{\n"
				    "  \"allowed_devices\": [ \"0000:00:05.0\", \"1b36:0010\" ],\n"
				    "  \"vm_users\": [ \"root\" ],\n"
				    "  \"vm_groups\": [ \"root\" ],\n"
				    "  \"fast_path_users\": [ 1000 ],\n"
				    "  \"fast_path_groups\": [ 1000 ],\n"
				    "  \"bind_on_demand\": true,\n"
				    "  \"restore_driver\": false,\n"
				    "  \"mock_devices\": 2\n"
				    "}\n");

	CHECK_EQ(c->ndevices, 2);
	CHECK_EQ(c->vm_users.count, 1);
	CHECK_EQ(c->vm_groups.count, 1);
	CHECK_EQ(c->fast_path_users.count, 1);
	CHECK_EQ(c->fast_path_groups.count, 1);
	CHECK(c->bind_on_demand);
	CHECK(!c->restore_driver);
	CHECK_EQ(c->mock_devices, 2);
	config_free(c);
}

static char dir[64];

static const char *tmp_path(const char *name)
{
	static char path[PATH_MAX];

	if (!dir[0]) {
		snprintf(dir, sizeof(dir), "/tmp/test-config-XXXXXX");
		CHECK(mkdtemp(dir));
	}
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return path;
}

static void write_file(const char *path, const char *data, size_t len)
{
	FILE *f = fopen(path, "w");

	CHECK(f);
	CHECK_EQ(fwrite(data, 1, len, f), len);
	CHECK_EQ(fclose(f), 0);
}

static void test_load(void)
{
	const char *path = tmp_path("viommud.conf");
	struct config *c = NULL;
	char expect[PATH_MAX + 128];
	int fds = check_count_fds();

	/* Missing: defaults unless named explicitly. */
	CHECK_OK(config_load(path, false, &c, err, sizeof(err)));
	CHECK(c && c->path == NULL && c->restore_driver);
	config_free(c);
	CHECK_RET(config_load(path, true, &c, err, sizeof(err)), -ENOENT);
	CHECK(c == NULL);
	snprintf(expect, sizeof(expect), "%s: cannot open: No such file or directory", path);
	CHECK_STREQ(err, expect);

	write_file(path, "{ \"mock_devices\": 3 }\n", 22);
	CHECK_OK(config_load(path, true, &c, err, sizeof(err)));
	CHECK_STREQ(c->path, path);
	CHECK_EQ(c->mock_devices, 3);
	config_free(c);

	/* Errors name the file. */
	write_file(path, "{ \"mock_devices\": 300 }\n", 24);
	CHECK_RET(config_load(path, false, &c, err, sizeof(err)), -EINVAL);
	snprintf(expect, sizeof(expect), "%s: mock_devices: 300 is out of range (0 to 64)", path);
	CHECK_STREQ(err, expect);

	/* A directory in its place. */
	CHECK_RET(config_load(dir, true, &c, err, sizeof(err)), -EISDIR);
	CHECK(strstr(err, "is a directory"));
	CHECK_EQ(check_count_fds(), fds);
	unlink(path);
}

static void test_too_big(void)
{
	const char *path = tmp_path("big.conf");
	size_t len = CONFIG_FILE_MAX + 1;
	char *text = malloc(len), expect[PATH_MAX + 128];
	struct config *c = NULL;

	CHECK(text);
	/* Valid JSON, only too long: "{}" padded with spaces. */
	memset(text, ' ', len);
	text[0] = '{';
	text[len - 1] = '}';
	write_file(path, text, len);
	CHECK_RET(config_load(path, true, &c, err, sizeof(err)), -EFBIG);
	snprintf(expect, sizeof(expect), "%s: is larger than 1048576 bytes (1 MiB)", path);
	CHECK_STREQ(err, expect);
	CHECK_RET(config_parse(text, len, SRC, &c, err, sizeof(err)), -EFBIG);
	CHECK_STREQ(err, SRC ": is larger than 1048576 bytes (1 MiB)");

	/* Exactly 1 MiB is fine. */
	text[len - 2] = '}';
	write_file(path, text, len - 1);
	CHECK_OK(config_load(path, true, &c, err, sizeof(err)));
	config_free(c);
	unlink(path);
	free(text);
}

static void test_err_buffer(void)
{
	struct config *c = NULL;
	char small[12];

	/* A short buffer truncates and stays terminated; NULL is allowed. */
	CHECK_RET(config_parse("[]", 2, SRC, &c, small, sizeof(small)), -EINVAL);
	CHECK_EQ(strlen(small), sizeof(small) - 1);
	CHECK_RET(config_parse("[]", 2, SRC, &c, NULL, 0), -EINVAL);
	/* A long bad value is shortened in the message. */
	{
		char text[400];

		snprintf(text, sizeof(text), "{ \"allowed_devices\": [ \"%0300d\" ] }", 0);
		CHECK_RET(parse(text, &c), -EINVAL);
		CHECK(strlen(err) < 200);
		CHECK(strstr(err, "...\" is neither"));
	}
}

int main(int argc, char **argv)
{
	static const struct check_case cases[] = {
		CHECK_CASE(test_defaults),
		CHECK_CASE(test_bools),
		CHECK_CASE(test_mock_devices),
		CHECK_CASE(test_devices),
		CHECK_CASE(test_devices_bad),
		CHECK_CASE(test_names),
		CHECK_CASE(test_names_bad),
		CHECK_CASE(test_policy),
		CHECK_CASE(test_structure_bad),
		CHECK_CASE(test_every_key),
		CHECK_CASE(test_load),
		CHECK_CASE(test_too_big),
		CHECK_CASE(test_err_buffer),
	};
	int r = check_run(cases, sizeof(cases) / sizeof(cases[0]), argc, argv);

	if (dir[0])
		rmdir(dir);
	return r;
}
