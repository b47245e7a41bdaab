/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The object model on disk (/run/viommud/state.json), so that a restarted
 * daemon adopts every VM from the fds the service manager kept.
 *
 * Commit protocol: an intent record naming the call is written (to its own
 * small file, <state>.intent) before any kernel change a D-Bus call makes
 * (state_begin, from a bus filter; MapMemory and UnmapMemory add their range),
 * new fds go to the fd store, and once the call is done the state is written
 * and the intent file removed (state_commit). A start that finds an intent
 * resolves it: a create is rolled back, a destroy or unmap is finished.
 */
#pragma once

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>

#include "model.h"

#define STATE_DEFAULT_PATH "/run/viommud/state.json"
/* The layout on disk (state-files.c): 2, a manifest and a file per VM. */
#define STATE_VERSION 2
/* The document the parser reads, whatever the layout: version 1's file. */
#define STATE_DOC_VERSION 1


/* state-save.c */
/* The whole model as the version 1 document. */
int state_to_json(const struct daemon *d, struct json_object **out);
/* Its head: version, next_vm_id, bound_devices. */
int state_manifest_to_json(const struct daemon *d, unsigned int version, struct json_object **out);
/* One VM as the document's "vms" hold it; NULL without memory. */
struct json_object *state_vm_to_json(const struct vm *vm);
/* Creates the state file's directory (not its parents). */
int state_prepare_dir(const char *path);

/* state-files.c */
/* Writes what changed: dirty VMs, the manifest if it differs, gone VMs. */
int state_write(struct daemon *d);
/* Every VM's file and the manifest are rewritten at the next write (a VM's
 * alone: vm_mark_dirty, model.h). */
void state_mark_all_dirty(struct daemon *d);
/* The VM left the model: its file goes at the next write. */
void state_vm_gone(struct daemon *d, unsigned int id);
/* path replaced by text atomically (fsynced where the state is durable). */
int state_file_replace(struct daemon *d, const char *path, const char *text);
/* The state as a version 1 document, from either layout: 1 and the text
 * (malloc()ed), 0 when there is no state, or a negative errno. */
int state_files_read(struct daemon *d, char **out, size_t *len);
/* A whole file's text: 1 and the text, 0 when it does not exist. */
int state_read_text(const char *path, char **out, size_t *len);
/* After adoption: files of VMs not adopted go, every VM is written anew. */
int state_files_resync(struct daemon *d);
/* An unusable state is renamed aside (*.corrupt), manifest and VM files. */
void state_files_set_aside(struct daemon *d);
void state_files_free(struct daemon *d);
/* The same within STATE_WRITE_SOON_MS, once for however many calls come
 * meanwhile: for what the kernel reports at its own pace (relayed faults). */
void state_write_soon(struct daemon *d);
#define STATE_WRITE_SOON_MS 50
/* The same within STATE_WRITE_LATER_MS (sooner if something asks for that):
 * for counters, which change with every invalidation and relayed event. */
void state_write_later(struct daemon *d);
#define STATE_WRITE_LATER_MS 1000
/* The intent record's own file: "<state path>.intent". */
void state_intent_path(const char *state_path, char *buf, size_t len);
/* Records that the call op on path is about to change the kernel. */
int state_begin(struct daemon *d, const char *op, const char *path);
/* Adds the range MapMemory or UnmapMemory is about to change. */
int state_begin_range(struct daemon *d, uint64_t iova, uint64_t length);
/* The change is done (or undone): the intent is cleared and the state written. */
int state_commit(struct daemon *d);

/* state-counters.c: the counters of the metrics under "counters", optional
 * keys (a file written before them reads as zeros) */
struct json_object *state_vm_counters_to_json(const struct vm_counters *c);
struct json_object *state_daemon_counters_to_json(const struct daemon_counters *c);
/* A VM object's counters, zeros where absent; -EINVAL and err for a value
 * that is no non-negative integer. */
int state_vm_counters_parse(struct json_object *vm, struct vm_counters *out, char *err,
			    size_t errlen);
/* The same for the manifest's; *found tells whether it had them. */
int state_daemon_counters_parse(struct json_object *root, struct daemon_counters *out,
				bool *found, char *err, size_t errlen);

/* state-load.c */
/*
 * Parses a state file into VMs not yet linked to the daemon (fds -1; devices
 * resolved by name against d's inventory, mock devices added to it). *vms
 * gets the list, *intent the unresolved intent (if any), *next_vm_id the
 * counter. err gets what is wrong with a document that does not parse.
 */
int state_parse(struct daemon *d, const char *text, size_t len, struct vm **vms,
		struct state_intent *intent, unsigned int *next_vm_id, char *err, size_t errlen);
/* Parses an intent file ({"intent": {...}}). */
int state_parse_intent(const char *text, size_t len, struct state_intent *intent, char *err,
		       size_t errlen);
/* Frees a list of parsed, never adopted VMs (no fds, no kernel calls). */
void state_free_parsed(struct vm *vms);

/* adopt.c */
/* Adopts the stored fds and the state file's VMs; the rest become orphans. */
int daemon_adopt(struct daemon *d);
/* Closes the orphaned fds stored under name; -ENOENT when there are none. */
int daemon_release_orphan(struct daemon *d, const char *name);
