/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The uevent datagram parser: the kernel's PCI add, remove, bind and unbind
 * as they look on the wire, then truncated, oversized and hostile input.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "uevent-parse.h"

/* A literal's own trailing NUL ends the last entry, as on the wire. */
#define DG(s) s, sizeof(s)

#define EDU "/devices/pci0000:00/0000:00:05.0"
#define EDU_VARS                                                                \
	"PCI_CLASS=FF0000\0PCI_ID=1234:11E8\0PCI_SUBSYS_ID=1AF4:1100\0"          \
	"PCI_SLOT_NAME=0000:00:05.0\0"                                          \
	"MODALIAS=pci:v00001234d000011E8sv00001AF4sd00001100bcFFsc00i00\0"

static const char pci_add[] = "add@" EDU "\0ACTION=add\0DEVPATH=" EDU "\0SUBSYSTEM=pci\0" EDU_VARS
			      "SEQNUM=1620";
static const char pci_remove[] = "remove@" EDU "\0ACTION=remove\0DEVPATH=" EDU
				 "\0SUBSYSTEM=pci\0" EDU_VARS "SEQNUM=1617";
static const char pci_bind[] = "bind@" EDU "\0ACTION=bind\0DEVPATH=" EDU
			       "\0SUBSYSTEM=pci\0DRIVER=vfio-pci\0" EDU_VARS "SEQNUM=1625";
static const char pci_unbind[] = "unbind@" EDU "\0ACTION=unbind\0DEVPATH=" EDU
				 "\0SUBSYSTEM=pci\0" EDU_VARS "SEQNUM=1630";
static const char vfio_add[] = "add@" EDU "/vfio-dev/vfio0\0ACTION=add\0DEVPATH=" EDU
			       "/vfio-dev/vfio0\0SUBSYSTEM=vfio-dev\0MAJOR=243\0MINOR=0\0"
			       "DEVNAME=vfio/devices/vfio0\0SEQNUM=1624";

static struct uevent ev;

static void parse_ok(const char *data, size_t len)
{
	int r = uevent_parse(data, len, &ev);

	if (r != 0)
		check_fail(__FILE__, __LINE__, "parse of \"%s\" failed: %s", data, strerror(-r));
}

/* Rejected, and nothing of it left behind. */
static void parse_bad(const char *data, size_t len, int expected)
{
	CHECK_RET(uevent_parse(data, len, &ev), expected);
	CHECK(!ev.devpath && !ev.action_name && !ev.subsystem && ev.nvars == 0);
}

static void test_pci_add(void)
{
	parse_ok(DG(pci_add));
	CHECK_EQ(ev.action, UEVENT_ACTION_ADD);
	CHECK_STREQ(ev.action_name, "add");
	CHECK_STREQ(ev.devpath, EDU);
	CHECK_STREQ(ev.sysname, "0000:00:05.0");
	CHECK_STREQ(ev.subsystem, "pci");
	CHECK_STREQ(ev.pci_slot_name, "0000:00:05.0");
	CHECK_STREQ(ev.pci_id, "1234:11E8");
	CHECK(!ev.driver);
	CHECK(!ev.devtype);
	CHECK(ev.has_seqnum);
	CHECK_EQ(ev.seqnum, 1620);
	CHECK_EQ(ev.nvars, 9);
	CHECK_STREQ(uevent_get(&ev, "PCI_SUBSYS_ID"), "1AF4:1100");
	CHECK(!uevent_get(&ev, "DRIVER"));
	CHECK(!uevent_get(&ev, "PCI"));
}

static void test_pci_remove(void)
{
	parse_ok(DG(pci_remove));
	CHECK_EQ(ev.action, UEVENT_ACTION_REMOVE);
	CHECK_STREQ(ev.pci_slot_name, "0000:00:05.0");
	CHECK_EQ(ev.seqnum, 1617);
}

static void test_pci_bind(void)
{
	parse_ok(DG(pci_bind));
	CHECK_EQ(ev.action, UEVENT_ACTION_BIND);
	CHECK_STREQ(ev.driver, "vfio-pci");
	CHECK_STREQ(ev.subsystem, "pci");
	CHECK_STREQ(ev.pci_slot_name, "0000:00:05.0");
}

/* The kernel clears the driver before it sends unbind: no DRIVER key. */
static void test_pci_unbind(void)
{
	parse_ok(DG(pci_unbind));
	CHECK_EQ(ev.action, UEVENT_ACTION_UNBIND);
	CHECK(!ev.driver);
	CHECK_STREQ(ev.pci_slot_name, "0000:00:05.0");
}

static void test_vfio_dev(void)
{
	parse_ok(DG(vfio_add));
	CHECK_EQ(ev.action, UEVENT_ACTION_ADD);
	CHECK_STREQ(ev.subsystem, "vfio-dev");
	CHECK_STREQ(ev.sysname, "vfio0");
	CHECK_STREQ(uevent_get(&ev, "DEVNAME"), "vfio/devices/vfio0");
	CHECK(!ev.pci_slot_name);
}

static void test_actions(void)
{
	parse_ok(DG("change@/devices/x\0ACTION=change"));
	CHECK_EQ(ev.action, UEVENT_ACTION_CHANGE);
	parse_ok(DG("move@/devices/x\0ACTION=move\0DEVPATH_OLD=/devices/y"));
	CHECK_EQ(ev.action, UEVENT_ACTION_OTHER);
	CHECK_STREQ(ev.action_name, "move");
	parse_ok(DG("ADD@/devices/x"));
	CHECK_EQ(ev.action, UEVENT_ACTION_OTHER); /* the kernel spells them lower-case */
	parse_ok(DG("resync@/devices/x"));
	CHECK_EQ(ev.action, UEVENT_ACTION_OTHER); /* only the monitor says resync */
	CHECK_STREQ(uevent_action_name(UEVENT_ACTION_UNBIND), "unbind");
	CHECK_STREQ(uevent_action_name(UEVENT_ACTION_RESYNC), "resync");
	CHECK_STREQ(uevent_action_name((enum uevent_action)1000), "other");
}

/* What the parser accepts at its edges. */
static void test_lenient(void)
{
	parse_ok(DG("add@/devices/x")); /* a header alone */
	CHECK_EQ(ev.nvars, 0);
	CHECK(!ev.subsystem && !ev.has_seqnum);
	parse_ok(DG("add@/devices/a@b\0X=")); /* split at the first '@'; empty value */
	CHECK_STREQ(ev.devpath, "/devices/a@b");
	CHECK_STREQ(uevent_get(&ev, "X"), "");
	parse_ok(DG("add@/x\0K=a=b")); /* split at the first '=' */
	CHECK_STREQ(uevent_get(&ev, "K"), "a=b");
	parse_ok(DG("add@/x\0ACTION=add\0ACTION=add\0SUBSYSTEM=pci\0SUBSYSTEM=pci"));
	CHECK_STREQ(ev.subsystem, "pci");
	parse_ok(DG("add@/x\0SEQNUM=18446744073709551615"));
	CHECK_EQ(ev.seqnum, UINT64_MAX);
	parse_ok(DG("add@/x\0SEQNUM=0"));
	CHECK(ev.has_seqnum);
}

/* Bytes are bytes: not UTF-8 is passed through, not interpreted. */
static void test_not_utf8(void)
{
	parse_ok(DG("add@/devices/\xff\xfe\x80\0SUBSYSTEM=\xc3\x28\0\x01\x7f=\xf0\x9f"));
	CHECK_STREQ(ev.sysname, "\xff\xfe\x80");
	CHECK_STREQ(ev.subsystem, "\xc3\x28");
	CHECK_STREQ(uevent_get(&ev, "\x01\x7f"), "\xf0\x9f");
}

static void test_malformed(void)
{
	parse_bad(NULL, 10, -EINVAL);
	parse_bad("", 0, -EINVAL);
	parse_bad(DG(""), -EINVAL);	       /* one NUL: an empty header */
	parse_bad("add@/x", 6, -EINVAL);       /* no NUL at all */
	parse_bad("add@/x\0A=b", 10, -EINVAL); /* last entry not terminated */
	parse_bad(DG("add/devices/x\0ACTION=add"), -EINVAL);
	parse_bad(DG("@/devices/x"), -EINVAL);
	parse_bad(DG("add@"), -EINVAL);
	parse_bad(DG("add@\0DEVPATH=/x"), -EINVAL);
	parse_bad(DG("add@devices/x"), -EINVAL); /* not absolute */
	parse_bad(DG("add@/"), -EINVAL);	  /* no name */
	parse_bad(DG("add@/devices/x/"), -EINVAL);
	parse_bad(DG("add@/x\0\0A=b"), -EINVAL); /* an empty entry */
	parse_bad(DG("add@/x\0A=b\0"), -EINVAL); /* two NULs at the end */
	parse_bad(DG("add@/x\0NOEQUALS"), -EINVAL);
	parse_bad(DG("add@/x\0=value"), -EINVAL);
	parse_bad(DG("add@/x\0SEQNUM="), -EINVAL);
	parse_bad(DG("add@/x\0SEQNUM=12a"), -EINVAL);
	parse_bad(DG("add@/x\0SEQNUM=-1"), -EINVAL);
	parse_bad(DG("add@/x\0SEQNUM= 1"), -EINVAL);
	parse_bad(DG("add@/x\0SEQNUM=18446744073709551616"), -EINVAL);
	parse_bad(DG("add@/x\0SEQNUM=99999999999999999999999"), -EINVAL);
}

/* Header and keys must agree: a filter must not see one thing and act on another. */
static void test_disagreeing(void)
{
	parse_bad(DG("add@/x\0ACTION=remove"), -EINVAL);
	parse_bad(DG("add@/x\0ACTION=add\0ACTION=remove"), -EINVAL);
	parse_bad(DG("add@/x\0DEVPATH=/y"), -EINVAL);
	parse_bad(DG("add@/x\0DEVPATH=/x\0DEVPATH=/y"), -EINVAL);
	parse_bad(DG("add@/x\0SUBSYSTEM=pci\0SUBSYSTEM=usb"), -EINVAL);
	parse_bad(DG("bind@/x\0DRIVER=vfio-pci\0DRIVER=nvme"), -EINVAL);
	parse_bad(DG("add@/x\0SEQNUM=1\0SEQNUM=2"), -EINVAL);
}

static void test_libudev(void)
{
	static const char udev[] = "libudev\0\xfe\xed\xca\xfe\x28\0\0\0ACTION=add";

	parse_bad(udev, sizeof(udev), -EPROTO);
	parse_bad("libudev", 8, -EPROTO);
	parse_bad("libudev", 7, -EINVAL); /* not the prefix: no NUL */
	parse_ok(DG("libudev@/x"));	  /* an action of that name is no prefix */
}

/* Writes "add@/x" and n entries "Kn=v" into buf; returns the length. */
static size_t make_vars(char *buf, size_t size, unsigned int n)
{
	size_t len = (size_t)snprintf(buf, size, "add@/x") + 1;

	for (unsigned int i = 0; i < n && len < size; i++)
		len += (size_t)snprintf(buf + len, size - len, "K%u=v", i) + 1;
	CHECK(len <= size);
	return len;
}

static void test_limits(void)
{
	static char buf[UEVENT_SIZE_MAX + 2];
	size_t len;

	len = make_vars(buf, sizeof(buf), UEVENT_VARS_MAX);
	parse_ok(buf, len);
	CHECK_EQ(ev.nvars, UEVENT_VARS_MAX);
	CHECK_STREQ(uevent_get(&ev, "K63"), "v");
	len = make_vars(buf, sizeof(buf), UEVENT_VARS_MAX + 1);
	parse_bad(buf, len, -EINVAL);
	/* Repeats count too: the work stays bounded by the entries. */
	len = (size_t)snprintf(buf, sizeof(buf), "add@/x") + 1;
	for (unsigned int i = 0; i <= UEVENT_VARS_MAX; i++) {
		memcpy(buf + len, "A=b", 4);
		len += 4;
	}
	parse_bad(buf, len, -EINVAL);

	/* Exactly UEVENT_SIZE_MAX bytes pass; one more does not. */
	memset(buf, 'a', sizeof(buf));
	memcpy(buf, "add@/", 5);
	buf[UEVENT_SIZE_MAX - 1] = '\0';
	parse_ok(buf, UEVENT_SIZE_MAX);
	CHECK_EQ(strlen(ev.devpath), UEVENT_SIZE_MAX - 5);
	buf[UEVENT_SIZE_MAX - 1] = 'a';
	buf[UEVENT_SIZE_MAX] = '\0';
	parse_bad(buf, UEVENT_SIZE_MAX + 1, -EINVAL);
	parse_bad(buf, (size_t)-1, -EINVAL);
}

/* Every truncation of a real datagram: a clean answer, never a crash. A cut
 * that does not end on a NUL is always refused. */
static void test_truncated(void)
{
	static const struct {
		const char *data;
		size_t len;
	} real[] = {
		{ DG(pci_add) }, { DG(pci_remove) }, { DG(pci_bind) }, { DG(pci_unbind) },
		{ DG(vfio_add) },
	};

	for (size_t i = 0; i < sizeof(real) / sizeof(real[0]); i++) {
		for (size_t len = 0; len <= real[i].len; len++) {
			/* A heap copy of exactly len bytes: ASan sees any overread. */
			char *copy = malloc(len ? len : 1);
			int r;

			CHECK(copy);
			memcpy(copy, real[i].data, len);
			r = uevent_parse(copy, len, &ev);
			free(copy);
			if (len == 0 || real[i].data[len - 1] != '\0')
				CHECK_RET(r, -EINVAL);
			else if (strchr(real[i].data, '\0') - real[i].data + 1 > (ptrdiff_t)len)
				CHECK_RET(r, -EINVAL);
			else if (r != 0)
				/* A cut between "KEY=" entries is a shorter valid datagram,
				 * except inside the header. */
				check_fail(__FILE__, __LINE__, "%zu-byte prefix refused: %d",
					   len, r);
		}
	}
}

static uint32_t rng = 0x9e3779b9;

static uint32_t next_random(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 17;
	rng ^= rng << 5;
	return rng;
}

/* Each accepted datagram's strings lie inside ev.buf. */
static void check_inside(const char *s)
{
	CHECK(s >= ev.buf && s < ev.buf + sizeof(ev.buf));
	CHECK(s + strlen(s) < ev.buf + sizeof(ev.buf));
}

/* Random mutations of real datagrams and random bytes from a small
 * alphabet ('@', '=', NUL and letters): answers are 0, -EINVAL or -EPROTO,
 * and what is accepted is consistent. A stand-in until the fuzzer runs. */
static void test_hostile(void)
{
	static const char alphabet[] = { '\0', '@', '=', '/', 'a', 'A', '\xff', 'S' };
	static char buf[512];
	unsigned int accepted = 0;

	for (unsigned int round = 0; round < 200000; round++) {
		size_t len;
		int r;

		if (round % 2) {
			len = sizeof(pci_bind) < sizeof(buf) ? sizeof(pci_bind) : sizeof(buf);
			memcpy(buf, pci_bind, len);
			for (unsigned int k = next_random() % 4 + 1; k; k--) {
				size_t at = next_random() % len;

				buf[at] = alphabet[next_random() % sizeof(alphabet)];
			}
			len -= next_random() % 8;
		} else {
			len = next_random() % 64;
			for (size_t k = 0; k < len; k++)
				buf[k] = alphabet[next_random() % sizeof(alphabet)];
		}
		r = uevent_parse(buf, len, &ev);
		CHECK(r == 0 || r == -EINVAL || r == -EPROTO);
		if (r < 0)
			continue;
		accepted++;
		check_inside(ev.action_name);
		check_inside(ev.devpath);
		check_inside(ev.sysname);
		CHECK(*ev.action_name && ev.devpath[0] == '/' && *ev.sysname);
		CHECK(ev.nvars <= UEVENT_VARS_MAX);
		for (unsigned int v = 0; v < ev.nvars; v++) {
			check_inside(ev.vars[v].key);
			check_inside(ev.vars[v].value);
			CHECK(*ev.vars[v].key);
		}
	}
	check_note("%u of 200000 hostile datagrams accepted", accepted);
	CHECK(accepted > 0);
}

int main(int argc, char **argv)
{
	static const struct check_case cases[] = {
		CHECK_CASE(test_pci_add),    CHECK_CASE(test_pci_remove),
		CHECK_CASE(test_pci_bind),   CHECK_CASE(test_pci_unbind),
		CHECK_CASE(test_vfio_dev),   CHECK_CASE(test_actions),
		CHECK_CASE(test_lenient),    CHECK_CASE(test_not_utf8),
		CHECK_CASE(test_malformed),  CHECK_CASE(test_disagreeing),
		CHECK_CASE(test_libudev),    CHECK_CASE(test_limits),
		CHECK_CASE(test_truncated),  CHECK_CASE(test_hostile),
	};

	return check_run(cases, sizeof(cases) / sizeof(cases[0]), argc, argv);
}
