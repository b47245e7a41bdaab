/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A generator of hostile D-Bus method calls for viommud's API, shared by the
 * libFuzzer harness (tests/fuzz/fuzz-dbus.c) and the in-guest random-call
 * driver (tests/integration/test-random-calls.c).
 *
 * It learns the API at run time: the interfaces, their methods with input
 * signatures and their properties come from introspection XML (each node of
 * a live daemon, walked from "/"), so a new method is covered without a
 * change here. Given a byte source (fuzz input or a seeded PRNG), it builds
 * one method call: on a path that exists, that existed or that never did;
 * usually with the method's own signature and edge-case values (0, 1,
 * UINT32_MAX, UINT64_MAX, unaligned IOVAs, huge lengths, empty and 4 KiB
 * strings, non-UTF-8 text that sd-bus refuses to build), a{sv} options with
 * known keys of the wrong type and unknown keys, fds of the wrong kind (a
 * pipe, /dev/null, a socket, an eventfd, a memfd too small, a read-only
 * memfd, ...); sometimes a wrong signature, a wrong interface or member, or
 * a Properties Get/GetAll/Set with right and wrong names. About a third of
 * the calls are plausible: the method's own signature on a live path, the
 * values from the pools the caller fills (by argument name, as introspection
 * names them), few options, a valid fd; they get past the first checks, so
 * what lies behind them is reached too.
 *
 * Objects that no node lists as a child (a VM's vIOMMUs, domains, vDEVICEs,
 * HW queues) are found through the properties that name them; a fault queue
 * is named by nothing but OpenFaultQueue's reply, so callers introspect its
 * path themselves.
 *
 * Test code only. Not thread-safe; after fork() each process uses its copy.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <systemd/sd-bus.h>

/* Where the generator's choices come from: the bytes of a fuzz input (read
 * in order; zeros once they run out, so every input is a whole program) or a
 * PRNG seeded once (xorshift64*). */
struct dg_source {
	const uint8_t *data;
	size_t size, pos;
	uint64_t state;
	bool prng;
};

void dg_source_bytes(struct dg_source *s, const uint8_t *data, size_t size);
void dg_source_seed(struct dg_source *s, uint64_t seed);
uint64_t dg_u64(struct dg_source *s);
/* [0, n); 0 when n is 0. */
uint32_t dg_below(struct dg_source *s, uint32_t n);
/* True with the given chance in percent. */
bool dg_chance(struct dg_source *s, unsigned int percent);
/* A fuzz input that has been read to its end. */
bool dg_exhausted(const struct dg_source *s);

enum dg_path_state {
	DG_PATH_LIVE,  /* exists (introspected, or returned by a call) */
	DG_PATH_GONE,  /* existed: destroyed since */
	DG_PATH_NEVER, /* made up */
};

#define DG_PATH_MAX 256
#define DG_NAME_MAX 128
#define DG_SIGNATURE_MAX 256

/* What a generated call is, for counting and for reproducing it. */
struct dbus_gen_call {
	char path[DG_PATH_MAX];
	char iface[DG_NAME_MAX]; /* "" when the call names no interface */
	char member[DG_NAME_MAX];
	char signature[DG_SIGNATURE_MAX];
	enum dg_path_state path_state;
	/* "method" (the member's own signature), "wrong-signature", "wrong-member",
	 * "property" (org.freedesktop.DBus.Properties) */
	const char *kind;
};

struct dbus_gen;

struct dbus_gen *dbus_gen_new(void);
void dbus_gen_free(struct dbus_gen *g);

/*
 * Learns every interface of an introspection document (the node at path):
 * methods with their input signature, properties with type and access. The
 * path is recorded as live, with the interfaces it lists. When children is
 * not NULL it gets the names of the child nodes (a NULL-terminated array
 * the caller frees with free() on each and on the array). -EINVAL for a
 * document that is not introspection XML.
 */
int dbus_gen_add_xml(struct dbus_gen *g, const char *path, const char *xml, char ***children);

/*
 * Introspects root and every node below it on bus (destination NULL on a
 * peer-to-peer connection), each with dbus_gen_add_xml(), and the objects
 * the properties of those nodes name (GetAll). With a pump set
 * (dbus_gen_set_pump), calls are asynchronous and the pump runs between
 * sd_bus_process() rounds, for a daemon served by the same thread. Returns
 * the number of nodes or a negative errno.
 */
int dbus_gen_introspect(struct dbus_gen *g, sd_bus *bus, const char *destination,
			const char *root);
void dbus_gen_set_pump(struct dbus_gen *g, void (*pump)(void *userdata), void *userdata);

/* The API learnt so far: interfaces (org.freedesktop.DBus.* included) and
 * their methods. */
size_t dbus_gen_interface_count(const struct dbus_gen *g);
size_t dbus_gen_method_count(const struct dbus_gen *g);
/* Whether the interface is known and has the method. */
bool dbus_gen_has_method(const struct dbus_gen *g, const char *iface, const char *member);

/* Paths: live ones get their interfaces from introspection or, for paths
 * learnt otherwise, from the shape of viommud's paths (org.viommu1(5)). A
 * path made gone takes the paths below it along. */
void dbus_gen_add_path(struct dbus_gen *g, const char *path, enum dg_path_state state);
void dbus_gen_path_gone(struct dbus_gen *g, const char *path);
size_t dbus_gen_path_count(const struct dbus_gen *g, enum dg_path_state state);

/* Makes the methods named member (of any interface) that many percent as
 * likely as the others, e.g. Destroy at 15 so that objects live a while. */
void dbus_gen_set_weight(struct dbus_gen *g, const char *member, unsigned int percent);

/* Values worth trying for integer arguments (IOVAs, lengths, IDs) and for
 * strings (names); there are built-in ones too. */
void dbus_gen_add_number(struct dbus_gen *g, uint64_t value);
void dbus_gen_add_string(struct dbus_gen *g, const char *s);
/* Values for the arguments of that name (as introspection names them:
 * "iova", "length", "flags", ...), which plausible calls mostly use. */
void dbus_gen_add_arg_number(struct dbus_gen *g, const char *arg, uint64_t value);

/* An fd to pass for 'h' arguments, named for reports; the caller keeps it
 * open and owns it. A valid one (a guest memfd) is what plausible calls
 * (about a third: the method's own signature on a live path, values from the
 * pools) mostly pass. */
void dbus_gen_add_fd(struct dbus_gen *g, int fd, const char *what);
void dbus_gen_add_valid_fd(struct dbus_gen *g, int fd, const char *what);
/* Opens fds of every wrong kind (a pipe's two ends, /dev/null read-only and
 * write-only, a socket, an eventfd, an empty memfd, a one-page memfd, a
 * read-only memfd, a directory, a pidfd of this process when the kernel has
 * pidfd_open); the generator owns and closes them. Returns how many. */
int dbus_gen_open_fds(struct dbus_gen *g);
/* The i-th fd of the pool (what names it); -1 past the end. */
int dbus_gen_fd(const struct dbus_gen *g, size_t i, const char **what);

/*
 * Builds one method call (destination NULL on a peer-to-peer connection).
 * 0 and *out (the caller sends and unrefs it) and *call filled in; or a
 * negative errno when sd-bus refused to build what was asked for (invalid
 * UTF-8, an invalid object path or signature, ...): the caller skips it.
 */
int dbus_gen_call(struct dbus_gen *g, struct dg_source *s, sd_bus *bus, const char *destination,
		  sd_bus_message **out, struct dbus_gen_call *call);

/*
 * Learns from the outcome of a call: reply (a method return) or error_name
 * (the call failed; reply is then ignored). Object paths in a method return
 * become live paths, integers become numbers to try, a successful Destroy
 * makes its path gone, UnknownObject on a live path called on its own
 * interface makes it gone (another connection destroyed it). The reply is
 * rewound afterwards.
 */
void dbus_gen_learn(struct dbus_gen *g, const struct dbus_gen_call *call, sd_bus_message *reply,
		    const char *error_name);

/* The error names a reply may carry: org.viommu1.Error.* and
 * org.freedesktop.DBus.Error.*. */
bool dbus_gen_error_name_ok(const char *name);
