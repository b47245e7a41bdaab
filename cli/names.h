/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The DEV, VM and orphan NAME arguments: checked for syntax before anything
 * is asked of the daemon (a malformed one is a usage error), and DEVs turned
 * into paths.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#define DEV_PATH_MAX 128
/* systemd's FDNAME_MAX. */
#define ORPHAN_NAME_MAX 255

/*
 * A device name ("0000:00:05.0", "00:05.0", "selftest0") or object path to
 * the object path; false when arg is neither. Names map to paths as the
 * daemon makes them (':' and '.' become '_'; see org.viommu1(5)).
 */
bool dev_arg_to_path(const char *arg, char path[DEV_PATH_MAX]);

/* A VM's object path (/org/viommu1/vm/N) or a name CreateVm would take. */
bool vm_arg_valid(const char *arg);
bool vm_arg_is_path(const char *arg);

/* A name the service manager's fd store takes (an orphan's): 1 to 255
 * printable ASCII characters, no ':' (the LISTEN_FDNAMES separator). */
bool orphan_arg_valid(const char *arg);
