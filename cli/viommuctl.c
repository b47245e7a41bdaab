/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * viommuctl: inspects and drives viommud. main() parses the global options,
 * picks the output backend once, finds the command in the table below and
 * runs it. Exit status: 0 ok, 1 failure, 2 usage.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bus.h"
#include "names.h"
#include "viommuctl.h"

#ifndef VIOMMUCTL_VERSION
#define VIOMMUCTL_VERSION "0"
#endif

#define EXIT_USAGE 2

/* What the arguments are, checked before the daemon is asked anything. */
enum arg_kind { ARG_NONE, ARG_DEV, ARG_VM, ARG_ORPHAN };

struct command {
	const char *verb;
	const char *subverb; /* NULL when the verb stands alone */
	int min_args, max_args;
	ctl_handler handler;
	enum arg_kind kind;
	const char *args; /* for --help */
	const char *help;
	ctl_handler check; /* its own argument checks, before connecting; or NULL */
};

static const struct command commands[] = {
	{ "status", NULL, 0, 0, cmd_status, ARG_NONE, "", "Show the daemon, kernel features and counts" },
	{ "devices", NULL, 0, 0, cmd_devices, ARG_NONE, "", "List the devices and whether assignable" },
	{ "device", "show", 1, 1, cmd_device_show, ARG_DEV, "DEV", "Show a device; why not assignable" },
	{ "hw-info", NULL, 1, 1, cmd_hw_info, ARG_DEV, "DEV", "Show the decoded IOMMU capabilities" },
	{ "bind", NULL, 1, 1, cmd_bind, ARG_DEV, "DEV", "Bind a device to vfio-pci" },
	{ "unbind", NULL, 1, 1, cmd_unbind, ARG_DEV, "DEV", "Take a device off vfio-pci" },
	{ "vms", NULL, 0, 0, cmd_vms, ARG_NONE, "", "List the VMs you may see" },
	{ "vm", "show", 1, 1, cmd_vm_show, ARG_VM, "VM", "Show a VM and its kernel objects" },
	{ "vm", "destroy", 1, 1, cmd_vm_destroy, ARG_VM, "VM", "Tear a VM down now" },
	{ "describe", NULL, 0, 0, cmd_describe, ARG_NONE, "", "Print the daemon's whole state as JSON" },
	{ "metrics", NULL, 0, 0, cmd_metrics, ARG_NONE, "", "Print the daemon's metrics (Prometheus text)" },
	{ "monitor", NULL, 0, 0, cmd_monitor, ARG_NONE, "", "Print device and object signals as they come" },
	{ "launch", NULL, 1, INT_MAX, cmd_launch, ARG_NONE, "OPTIONS -- COMMAND...",
	  "Run a VMM on a broker VM with its fds", cmd_launch_check },
	{ "orphans", NULL, 0, 0, cmd_orphans, ARG_NONE, "", "List fds no VM took back after a restart" },
	{ "orphan", "release", 1, 1, cmd_orphan_release, ARG_ORPHAN, "NAME", "Close an orphan's fds" },
};

#define N_COMMANDS (sizeof(commands) / sizeof(commands[0]))

static const struct option long_options[] = {
	{ "json", no_argument, NULL, 'j' },
	{ "socket", required_argument, NULL, 's' },
	{ "system", no_argument, NULL, 'S' },
	{ "no-color", no_argument, NULL, 'C' },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ 0 },
};

int ctl_usage(struct ctl *c, const char *fmt, ...)
{
	va_list ap;

	fputs("viommuctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\nTry 'viommuctl --help'.\n", stderr);
	if (c)
		c->usage_failed = true;
	return -EINVAL;
}

static void help(void)
{
	printf("Usage: viommuctl [OPTIONS] COMMAND [ARGS]\n\n"
	       "Inspect and drive viommud, the virtual IOMMU daemon.\n\nCommands:\n");
	for (size_t i = 0; i < N_COMMANDS; i++) {
		char name[40];

		snprintf(name, sizeof(name), "%s%s%s %s", commands[i].verb,
			 commands[i].subverb ? " " : "",
			 commands[i].subverb ? commands[i].subverb : "", commands[i].args);
		printf("  %-20s %s\n", name, commands[i].help);
	}
	printf("\nOptions:\n"
	       "  --json             Print JSON (every read command)\n"
	       "  --socket PATH      The daemon's socket (default $VIOMMU_SOCKET, else\n"
	       "                     " DEFAULT_SOCKET ")\n"
	       "  --system           Talk to org.viommu1 on the system bus\n"
	       "  --no-color         No colour even on a terminal\n"
	       "  -h, --help         Show this help\n"
	       "  --version          Show the version\n\n"
	       "DEV is a device name (0000:00:05.0, selftest0) or its object path;\n"
	       "VM is a VM's name or its object path; NAME an orphan's name as orphans\n"
	       "lists it. See viommuctl(8).\n");
}

/* The command argv names, or NULL after a usage error; *skip gets how many
 * words named it. */
static const struct command *find_command(int argc, char **argv, int *skip)
{
	bool verb_known = false;

	for (size_t i = 0; i < N_COMMANDS; i++) {
		const struct command *cmd = &commands[i];

		if (strcmp(cmd->verb, argv[0]) != 0)
			continue;
		verb_known = true;
		if (!cmd->subverb) {
			*skip = 1;
			return cmd;
		}
		if (argc > 1 && strcmp(cmd->subverb, argv[1]) == 0) {
			*skip = 2;
			return cmd;
		}
	}
	if (!verb_known)
		ctl_usage(NULL, "unknown command \"%s\"", argv[0]);
	else if (argc < 2)
		ctl_usage(NULL, "%s: a subcommand is missing", argv[0]);
	else
		ctl_usage(NULL, "%s: unknown subcommand \"%s\"", argv[0], argv[1]);
	return NULL;
}

/* "vm destroy web1": what an error message names. */
static char *what_of(int argc, char **argv)
{
	size_t len = 1;
	char *s;

	for (int i = 0; i < argc; i++)
		len += strlen(argv[i]) + 1;
	s = calloc(1, len);
	for (int i = 0; s && i < argc; i++) {
		if (i)
			strcat(s, " ");
		strcat(s, argv[i]);
	}
	return s;
}

/* Whether the command is launch: its options and the VMM's command line
 * after it are its own, so the global options stop before it. */
static bool verb_is_launch(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--socket") == 0) {
			i++;
			continue;
		}
		if (argv[i][0] == '-')
			continue;
		return strcmp(argv[i], "launch") == 0;
	}
	return false;
}

static bool want_color(bool no_color)
{
	const char *nc = getenv("NO_COLOR");

	return !no_color && !nc && isatty(STDOUT_FILENO);
}

int main(int argc, char **argv)
{
	struct ctl c = { .error = SD_BUS_ERROR_NULL };
	bool json = false, system_bus = false, no_color = false;
	const char *socket = NULL;
	const struct command *cmd;
	char *what;
	int opt, skip = 0, nargs, r, status;

	while ((opt = getopt_long(argc, argv, verb_is_launch(argc, argv) ? "+h" : "h", long_options,
				  NULL)) != -1) {
		switch (opt) {
		case 'j': json = true; break;
		case 's': socket = optarg; break;
		case 'S': system_bus = true; break;
		case 'C': no_color = true; break;
		case 'h': help(); return 0;
		case 'V': printf("viommuctl %s\n", VIOMMUCTL_VERSION); return 0;
		default: fputs("Try 'viommuctl --help'.\n", stderr); return EXIT_USAGE;
		}
	}
	if (socket && system_bus) {
		ctl_usage(NULL, "--socket and --system exclude each other");
		return EXIT_USAGE;
	}
	argc -= optind;
	argv += optind;
	if (argc == 0) {
		ctl_usage(NULL, "no command given");
		return EXIT_USAGE;
	}
	cmd = find_command(argc, argv, &skip);
	if (!cmd)
		return EXIT_USAGE;
	nargs = argc - skip;
	if (nargs < cmd->min_args || nargs > cmd->max_args) {
		ctl_usage(NULL, "%s%s%s: %s (usage: %s%s%s %s)", cmd->verb, cmd->subverb ? " " : "",
			  cmd->subverb ? cmd->subverb : "",
			  nargs < cmd->min_args ? "an argument is missing" : "too many arguments",
			  cmd->verb, cmd->subverb ? " " : "", cmd->subverb ? cmd->subverb : "",
			  cmd->args);
		return EXIT_USAGE;
	}
	for (int i = skip; i < argc; i++) {
		char path[DEV_PATH_MAX];

		if (cmd->kind == ARG_DEV && !dev_arg_to_path(argv[i], path)) {
			ctl_usage(NULL, "\"%s\" is no device: give a PCI address (0000:00:05.0), "
				  "selftestN or a path under %s/", argv[i], VIOMMU_DEVICE_PREFIX);
			return EXIT_USAGE;
		}
		if (cmd->kind == ARG_VM && !vm_arg_valid(argv[i])) {
			ctl_usage(NULL, "\"%s\" is no VM: give its name or a path %sN", argv[i],
				  VIOMMU_VM_PREFIX "/");
			return EXIT_USAGE;
		}
		if (cmd->kind == ARG_ORPHAN && !orphan_arg_valid(argv[i])) {
			ctl_usage(NULL, "\"%s\" is no orphan name: 1 to %d printable ASCII "
				  "characters without ':'", argv[i], ORPHAN_NAME_MAX);
			return EXIT_USAGE;
		}
	}
	if (cmd->check && cmd->check(&c, nargs, argv + skip) < 0)
		return EXIT_USAGE;
	if (!socket && !system_bus) {
		socket = getenv("VIOMMU_SOCKET");
		if (!socket || !*socket)
			socket = DEFAULT_SOCKET;
	}

	what = what_of(argc, argv);
	c.out = json ? out_new_json(stdout) : out_new_human(stdout, want_color(no_color));
	if (!what || !c.out) {
		fputs("viommuctl: out of memory\n", stderr);
		return EXIT_FAILURE;
	}
	r = bus_connect(&c, socket, system_bus);
	if (r >= 0)
		r = cmd->handler(&c, nargs, argv + skip);
	if (out_free(c.out) < 0 && r >= 0) {
		fprintf(stderr, "viommuctl: %s: cannot write the output\n", what);
		r = -EIO;
	}
	if (c.usage_failed)
		status = EXIT_USAGE;
	else if (r < 0) {
		if (sd_bus_error_is_set(&c.error))
			fprintf(stderr, "viommuctl: %s: %s: %s\n", what, c.error.name,
				c.error.message ? c.error.message : strerror(-r));
		else
			fprintf(stderr, "viommuctl: %s: %s\n", what, strerror(-r));
		status = EXIT_FAILURE;
	} else
		status = EXIT_SUCCESS;
	bus_disconnect(&c);
	sd_bus_error_free(&c.error);
	free(what);
	return status;
}
