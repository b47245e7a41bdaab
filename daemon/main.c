/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* viommud: options, signals and the main loop; the rest is libviommud. */
#include <errno.h>
#include <event2/event.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <systemd/sd-daemon.h>


#include "daemon.h"
#include "log.h"
#include "state.h"
#include "sysfs-helper.h"

/* EX_TEMPFAIL: a failure to systemd, so Restart=on-failure brings us back. */
#define EXIT_RESTART 75

struct main_state {
	struct daemon daemon;
	struct event_base *base;
	bool keep_vms; /* SIGUSR2: exit, leaving the VMs to the fd store */
	const char *config_path;
	bool config_required;
};

static void usage(FILE *out)
{
	fprintf(out,
		"usage: viommud [OPTIONS]\n"
		"  --config PATH            configuration file (default " CONFIG_DEFAULT_PATH ")\n"
		"  --socket PATH            private socket (default /run/viommud/viommud.sock)\n"
		"  --bus system|none|auto   serve org.viommu1 on the system bus (default auto)\n"
		"  --state PATH|none        state file for restarts (default " STATE_DEFAULT_PATH ")\n"
		"  --log-level LEVEL        err, warning, notice, info or debug (default info)\n"
		"  --help, --version\n");
}

static void on_sigterm(evutil_socket_t sig, short events, void *arg)
{
	struct main_state *s = arg;

	log_info("%s: tearing every VM down and exiting", sig == SIGINT ? "SIGINT" : "SIGTERM");
	sd_notify(0, "STOPPING=1");
	event_base_loopbreak(s->base);
}

/* An upgrade: exit non-zero without tearing anything down, so that
 * Restart=on-failure starts the new binary with the stored fds. */
static void on_sigusr2(evutil_socket_t sig, short events, void *arg)
{
	struct main_state *s = arg;

	if (!fdstore_enabled() || !s->daemon.state_path) {
		log_warning("SIGUSR2: no service manager fd store or no state file, so the VMs "
			    "would not survive; ignored (SIGTERM stops the daemon)");
		return;
	}
	log_notice("SIGUSR2: exiting for a restart; the service manager keeps every VM's fds");
	state_mark_all_dirty(&s->daemon);
	state_commit(&s->daemon);
	s->keep_vms = true;
	event_base_loopbreak(s->base);
}

static void on_sighup(evutil_socket_t sig, short events, void *arg)
{
	struct main_state *s = arg;
	struct config *config = NULL;
	char err[512];
	int r;

	sd_notify(0, "RELOADING=1");
	r = config_load(s->config_path, s->config_required, &config, err, sizeof(err));
	if (r < 0) {
		log_error("SIGHUP: %s; keeping the configuration in use", err);
	} else {
		daemon_set_config(&s->daemon, config);
		log_info("SIGHUP: configuration reloaded from %s",
			 config->path ? config->path : "built-in defaults");
	}
	sd_notify(0, "READY=1");
}

/* WatchdogSec=: the loop proves it is alive at half the interval. */
static void on_watchdog(evutil_socket_t fd, short events, void *arg)
{
	sd_notify(0, "WATCHDOG=1");
}

/* A timer that pings the service manager's watchdog, or NULL when there is none. */
static struct event *watchdog_new(struct event_base *base)
{
	uint64_t usec = 0;
	struct timeval half;
	struct event *ev;

	if (sd_watchdog_enabled(0, &usec) <= 0 || usec == 0)
		return NULL;
	half.tv_sec = (time_t)(usec / 2 / 1000000);
	half.tv_usec = (suseconds_t)(usec / 2 % 1000000);
	ev = event_new(base, -1, EV_PERSIST, on_watchdog, NULL);
	if (!ev || event_add(ev, &half) < 0) {
		log_warning("cannot arm the watchdog timer: the service manager will kill us");
		if (ev)
			event_free(ev);
		return NULL;
	}
	return ev;
}

static int parse_log_level(const char *text)
{
	static const struct {
		const char *name;
		int level;
	} levels[] = {
		{ "err", LOG_ERR },   { "warning", LOG_WARNING }, { "notice", LOG_NOTICE },
		{ "info", LOG_INFO }, { "debug", LOG_DEBUG },
	};

	for (size_t i = 0; i < sizeof(levels) / sizeof(levels[0]); i++)
		if (strcmp(text, levels[i].name) == 0)
			return levels[i].level;
	return -EINVAL;
}

int main(int argc, char **argv)
{
	static const struct option options[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "socket", required_argument, NULL, 's' },
		{ "bus", required_argument, NULL, 'b' },
		{ "log-level", required_argument, NULL, 'l' },
		{ "state", required_argument, NULL, 'S' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ 0 },
	};
	struct server_options server_options = { .bus_mode = SERVER_BUS_AUTO };
	struct server_callbacks callbacks = {
		.attach = daemon_attach_bus,
		.peer_gone = daemon_peer_gone,
		.may_connect = daemon_may_connect,
		.after_dispatch = daemon_after_dispatch,
	};
	struct main_state s = { .config_path = NULL };
	const char *state_path = STATE_DEFAULT_PATH;
	struct event *sigterm = NULL, *sigint = NULL, *sighup = NULL, *sigusr2 = NULL;
	struct event *watchdog = NULL;
	struct config *config = NULL;
	char err[512];
	int c, r, level;

	while ((c = getopt_long(argc, argv, "c:s:b:l:hV", options, NULL)) != -1) {
		switch (c) {
		case 'c':
			s.config_path = optarg;
			s.config_required = true;
			break;
		case 's':
			if (optarg[0] != '/') {
				fprintf(stderr, "viommud: --socket wants an absolute path, not \"%s\"\n",
					optarg);
				return 2;
			}
			server_options.socket_path = optarg;
			break;
		case 'b':
			if (strcmp(optarg, "system") == 0)
				server_options.bus_mode = SERVER_BUS_SYSTEM;
			else if (strcmp(optarg, "none") == 0)
				server_options.bus_mode = SERVER_BUS_NONE;
			else if (strcmp(optarg, "auto") == 0)
				server_options.bus_mode = SERVER_BUS_AUTO;
			else {
				fprintf(stderr, "viommud: --bus takes system, none or auto, not \"%s\"\n",
					optarg);
				return 2;
			}
			break;
		case 'S':
			if (strcmp(optarg, "none") == 0) {
				state_path = NULL;
			} else if (optarg[0] != '/' || strlen(optarg) > 4000) {
				fprintf(stderr, "viommud: --state wants an absolute path or \"none\", "
						"not \"%s\"\n", optarg);
				return 2;
			} else {
				state_path = optarg;
			}
			break;
		case 'l':
			level = parse_log_level(optarg);
			if (level < 0) {
				fprintf(stderr, "viommud: --log-level takes err, warning, notice, info "
						"or debug, not \"%s\"\n", optarg);
				return 2;
			}
			log_set_max_priority(level);
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("viommud %s\n", VIOMMUD_VERSION);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "viommud: unexpected argument \"%s\"\n", argv[optind]);
		usage(stderr);
		return 2;
	}

	r = config_load(s.config_path, s.config_required, &config, err, sizeof(err));
	if (r < 0) {
		log_error("%s", err);
		return 1;
	}
	/* A client that goes away mid-reply must not kill the daemon. */
	signal(SIGPIPE, SIG_IGN);
	/* Under its unit /sys is read-only here: viommud-sysfs-helper writes. */
	if (getenv(SYSFS_HELPER_ENV))
		sysfs_client_use(getenv(SYSFS_HELPER_ENV));
	s.base = event_base_new();
	if (!s.base) {
		log_error("cannot create the event loop");
		config_free(config);
		return 1;
	}
	r = daemon_init(&s.daemon, s.base, config);
	if (r < 0) {
		log_error("cannot start: %s", strerror(-r));
		daemon_fini(&s.daemon);
		event_base_free(s.base);
		return 1;
	}
	s.daemon.state_path = state_path;
	r = state_prepare_dir(state_path);
	if (r < 0)
		log_warning("cannot create the directory of %s: %s", state_path, strerror(-r));
	callbacks.userdata = &s.daemon;
	r = server_new(s.base, &server_options, &callbacks, &s.daemon.server);
	if (r < 0) {
		log_error("cannot serve: %s", strerror(-r));
		daemon_fini(&s.daemon);
		event_base_free(s.base);
		return 1;
	}
	/* After the server took its listening socket from LISTEN_FDS; before
	 * the loop serves a single call. */
	daemon_adopt(&s.daemon);
	daemon_apply_limits(&s.daemon);
	sigterm = evsignal_new(s.base, SIGTERM, on_sigterm, &s);
	sigint = evsignal_new(s.base, SIGINT, on_sigterm, &s);
	sighup = evsignal_new(s.base, SIGHUP, on_sighup, &s);
	sigusr2 = evsignal_new(s.base, SIGUSR2, on_sigusr2, &s);
	if (!sigterm || !sigint || !sighup || !sigusr2 || event_add(sigterm, NULL) < 0 ||
	    event_add(sigint, NULL) < 0 || event_add(sighup, NULL) < 0 ||
	    event_add(sigusr2, NULL) < 0) {
		log_error("cannot watch signals");
		/* The VMs stay with the service manager for the next start. */
		s.keep_vms = fdstore_enabled() && s.daemon.state_path;
		r = -ENOMEM;
	} else {
		watchdog = watchdog_new(s.base);
		sd_notify(0, "READY=1");
		daemon_update_status(&s.daemon);
		log_info("viommud %s ready", VIOMMUD_VERSION);
		event_base_dispatch(s.base);
		r = 0;
	}
	if (sigterm)
		event_free(sigterm);
	if (sigint)
		event_free(sigint);
	if (sighup)
		event_free(sighup);
	if (sigusr2)
		event_free(sigusr2);
	if (s.keep_vms) {
		/* Our copies close; the store's keep every kernel object alive. */
		server_free(s.daemon.server);
		_exit(EXIT_RESTART);
	}
	if (watchdog)
		event_free(watchdog);
	/* VMs first: their teardown may still emit on the connections. */
	while (s.daemon.vms) {
		struct vm *vm = s.daemon.vms;

		vm_teardown(vm);
		vm_free(vm);
	}
	/* Say so in the state: the next start must not look for them. */
	if (s.daemon.state_path && state_commit(&s.daemon) < 0)
		log_warning("cannot record that every VM is gone in %s", s.daemon.state_path);
	server_free(s.daemon.server);
	s.daemon.server = NULL;
	daemon_fini(&s.daemon);
	event_base_free(s.base);
	return r < 0 ? 1 : 0;
}
