/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * polkit on the system bus, under systemd 252 with Debian's polkitd 122
 * (JavaScript rules), viommud installed from its .debs (run-systemd; config
 * {"vm_users": [65534], "mock_devices": 2, "allowed_devices": ["1234:11e8"]}).
 * Each action of org.viommu1.policy is tried by root, by a member of group
 * viommu (a user made here) and by uid 65534 (nobody), in a process of that
 * identity on the system bus:
 *
 *  - the shipped rules (60-viommud.rules): the member may create VMs and take
 *    the fast path, not bind devices or release orphans; nobody may do
 *    nothing, though viommud.conf lists it in vm_users: polkit decides;
 *  - a rules file in /etc that turns each answer around (the member may bind
 *    and release but not create or take the fast path, nobody may do all,
 *    root nothing): so each is seen allowed and refused; root still may,
 *    as viommud lets root through without asking (viommud(8));
 *  - polkitd stopped (SIGSTOP) while nobody's calls wait: root's calls are
 *    answered meanwhile (the loop does not wait on polkit), and nobody's
 *    ninth call in flight is refused at once (LimitsExceeded);
 *  - polkitd masked and stopped: viommud.conf decides (nobody may create VMs,
 *    the member may not);
 *  - the object tree on this real system bus: busctl tree and gdbus
 *    introspect --recurse show every VM to root; nobody's GetManagedObjects
 *    has its own VM and no other user's.
 */
#include <errno.h>
#include <inttypes.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "client.h"

#define MEMBER "viommu-polkit"
#define TEST_RULES "/etc/polkit-1/rules.d/10-viommud-test.rules"
#define PERMISSION_DENIED "org.viommu1.Error.PermissionDenied"
#define LIMITS_EXCEEDED "org.freedesktop.DBus.Error.LimitsExceeded"

struct who {
	const char *name;
	uid_t uid;
	gid_t gid;
	gid_t groups[2];
	int ngroups;
};

static struct who root = { "root", 0, 0, { 0 }, 0 };
static struct who member, nobody = { "nobody", 65534, 65534, { 0 }, 0 };
/* Persistent VMs, one per identity, for the fast-path probes. */
static char member_vm[256], nobody_vm[256], root_vm[256];
static char edu_path[256];

enum probe {
	PROBE_CREATE,	   /* CreateVm and Destroy: manage-vms */
	PROBE_CREATE_KEEP, /* CreateVm persist: manage-vms, the path is the answer */
	PROBE_FAST_PATH,   /* GetIommufd on arg: fast-path */
	PROBE_BIND,	   /* BindVfio on the edu: bind-devices */
	PROBE_ORPHANS,	   /* ListOrphans: release-orphans */
};

static int become(const struct who *w)
{
	if (w->uid == 0)
		return 0;
	if (setgroups((size_t)w->ngroups, w->groups) < 0 || setresgid(w->gid, w->gid, w->gid) < 0 ||
	    setresuid(w->uid, w->uid, w->uid) < 0)
		return -errno;
	return 0;
}

/* "ok", "ok <path>" or "<error name>: <message>". */
static void probe_run(const struct who *w, enum probe p, const char *arg, char *out, size_t len)
{
	sd_bus_message *reply = NULL;
	const char *path = NULL;
	struct vc c;
	int r = become(w);

	snprintf(out, len, "cannot become %s: %s", w->name, strerror(-r));
	if (r < 0 || vc_connect_system(&c) < 0) {
		if (r >= 0)
			snprintf(out, len, "cannot connect to the system bus");
		return;
	}
	switch (p) {
	case PROBE_CREATE:
	case PROBE_CREATE_KEEP:
		r = vc_call(&c, VC_ROOT, VC_MANAGER, "CreateVm", &reply, "sa{sv}",
			    p == PROBE_CREATE ? "polkit-probe" : "polkit-keep", 1, "persist", "b",
			    p == PROBE_CREATE_KEEP);
		if (r >= 0)
			r = sd_bus_message_read(reply, "o", &path);
		if (r >= 0 && p == PROBE_CREATE)
			r = vc_call(&c, path, VC_VM, "Destroy", NULL, "");
		break;
	case PROBE_FAST_PATH:
		r = vc_call(&c, arg, VC_VM, "GetIommufd", &reply, "");
		break;
	case PROBE_BIND:
		r = vc_call(&c, edu_path, VC_DEVICE, "BindVfio", NULL, "");
		break;
	case PROBE_ORPHANS:
		r = vc_call(&c, VC_ROOT, VC_MANAGER, "ListOrphans", NULL, "");
		break;
	}
	if (r >= 0)
		snprintf(out, len, "ok%s%s", p == PROBE_CREATE_KEEP ? " " : "",
			 p == PROBE_CREATE_KEEP ? path : "");
	else
		snprintf(out, len, "%s: %s", vc_error_name(&c), vc_error_message(&c));
	sd_bus_message_unref(reply);
	vc_close(&c);
}

/* The probe in a process of w's identity; its answer. */
static char *probe(const struct who *w, enum probe p, const char *arg)
{
	static char answer[1024];
	int pipefd[2], status;
	ssize_t n = 0;
	pid_t pid;

	CHECK(pipe(pipefd) == 0);
	pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		char out[sizeof(answer)];

		close(pipefd[0]);
		probe_run(w, p, arg, out, sizeof(out));
		_exit(write(pipefd[1], out, strlen(out)) < 0);
	}
	close(pipefd[1]);
	for (ssize_t k; (k = read(pipefd[0], answer + n, sizeof(answer) - 1 - (size_t)n)) > 0;)
		n += k;
	close(pipefd[0]);
	answer[n > 0 ? n : 0] = '\0';
	CHECK(waitpid(pid, &status, 0) == pid);
	return answer;
}

static const char *const action_of[] = {
	[PROBE_CREATE] = "org.viommu1.manage-vms",
	[PROBE_CREATE_KEEP] = "org.viommu1.manage-vms",
	[PROBE_FAST_PATH] = "org.viommu1.fast-path",
	[PROBE_BIND] = "org.viommu1.bind-devices",
	[PROBE_ORPHANS] = "org.viommu1.release-orphans",
};

/* Allowed: the call got past authorization (BindVfio may fail after it:
 * the edu may be bound already, which is not what is tried here). */
static void expect(const struct who *w, enum probe p, const char *arg, bool allowed,
		   const char *why_word)
{
	char *a = probe(w, p, arg);

	check_note("%s %s: %s", w->name, action_of[p], a);
	if (allowed) {
		CHECK(!strstr(a, PERMISSION_DENIED) && !strstr(a, "cannot "));
		if (p != PROBE_BIND)
			CHECK(strncmp(a, "ok", 2) == 0);
	} else {
		CHECK(strncmp(a, PERMISSION_DENIED ":", strlen(PERMISSION_DENIED) + 1) == 0);
		CHECK(strstr(a, action_of[p]));
		CHECK(strstr(a, why_word));
	}
}

static void keep_vm(const struct who *w, char *path, size_t len)
{
	char *a = probe(w, PROBE_CREATE_KEEP, NULL);

	check_note("%s keeps a VM: %s", w->name, a);
	CHECK(strncmp(a, "ok /", 4) == 0);
	snprintf(path, len, "%s", a + 3);
}

static int shell(const char *cmd)
{
	int r = system(cmd);

	if (r != 0)
		check_note("\"%s\" exited with %d", cmd, r);
	return r;
}

static void test_setup(void)
{
	struct passwd *pw;
	struct group *gr = getgrnam("viommu");
	struct vc c;
	char **devs = NULL;

	CHECK(gr);
	CHECK(shell("getent passwd " MEMBER " >/dev/null || useradd --system --no-create-home "
		    "--groups viommu " MEMBER) == 0);
	pw = getpwnam(MEMBER);
	CHECK(pw);
	member = (struct who){ MEMBER, pw->pw_uid, pw->pw_gid, { pw->pw_gid, gr->gr_gid }, 2 };
	CHECK(shell("rm -f " TEST_RULES " && systemctl restart polkit.service") == 0);
	CHECK_OK(vc_connect_system(&c));
	CHECK_OK(vc_list(&c, "ListDevices", &devs));
	for (char **d = devs; d && *d; d++)
		if (!strstr(*d, "selftest"))
			snprintf(edu_path, sizeof(edu_path), "%s", *d);
	vc_strv_free(devs);
	vc_close(&c);
	check_note("the edu: %s", edu_path);
	CHECK(edu_path[0]);
}

static void test_shipped_rules(void)
{
	/* Root, without a word to polkit. */
	expect(&root, PROBE_CREATE, NULL, true, NULL);
	keep_vm(&root, root_vm, sizeof(root_vm));
	expect(&root, PROBE_FAST_PATH, root_vm, true, NULL);
	expect(&root, PROBE_BIND, NULL, true, NULL);
	expect(&root, PROBE_ORPHANS, NULL, true, NULL);
	/* Group viommu: the VMM's actions. */
	expect(&member, PROBE_CREATE, NULL, true, NULL);
	keep_vm(&member, member_vm, sizeof(member_vm));
	expect(&member, PROBE_FAST_PATH, member_vm, true, NULL);
	expect(&member, PROBE_BIND, NULL, false, "polkit");
	expect(&member, PROBE_ORPHANS, NULL, false, "polkit");
	/* In vm_users, but polkit decides on the system bus. */
	expect(&nobody, PROBE_CREATE, NULL, false, "polkit");
	expect(&nobody, PROBE_BIND, NULL, false, "polkit");
	expect(&nobody, PROBE_ORPHANS, NULL, false, "polkit");
}

static void test_rules_file(void)
{
	FILE *f = fopen(TEST_RULES, "w");

	CHECK(f);
	fputs("polkit.addRule(function(action, subject) {\n"
	      "\tif (action.id.indexOf(\"org.viommu1.\") != 0)\n"
	      "\t\treturn polkit.Result.NOT_HANDLED;\n"
	      "\tif (subject.user == \"root\" || subject.user == \"" MEMBER "\" &&\n"
	      "\t    (action.id == \"org.viommu1.manage-vms\" ||\n"
	      "\t     action.id == \"org.viommu1.fast-path\"))\n"
	      "\t\treturn polkit.Result.NO;\n"
	      "\treturn polkit.Result.YES;\n"
	      "});\n",
	      f);
	CHECK(fclose(f) == 0);
	CHECK(shell("systemctl restart polkit.service") == 0);

	expect(&root, PROBE_CREATE, NULL, true, NULL);
	expect(&root, PROBE_FAST_PATH, root_vm, true, NULL);
	expect(&root, PROBE_BIND, NULL, true, NULL);
	expect(&root, PROBE_ORPHANS, NULL, true, NULL);

	expect(&member, PROBE_CREATE, NULL, false, "polkit");
	expect(&member, PROBE_FAST_PATH, member_vm, false, "polkit");
	expect(&member, PROBE_BIND, NULL, true, NULL);
	expect(&member, PROBE_ORPHANS, NULL, true, NULL);

	expect(&nobody, PROBE_CREATE, NULL, true, NULL);
	keep_vm(&nobody, nobody_vm, sizeof(nobody_vm));
	expect(&nobody, PROBE_FAST_PATH, nobody_vm, true, NULL);
	expect(&nobody, PROBE_BIND, NULL, true, NULL);
	expect(&nobody, PROBE_ORPHANS, NULL, true, NULL);

	/* Back to the shipped rules: nobody's own VM, but no fast path. */
	CHECK(shell("rm -f " TEST_RULES " && systemctl restart polkit.service") == 0);
	expect(&nobody, PROBE_FAST_PATH, nobody_vm, false, "polkit");
}

static pid_t polkitd_pid(void)
{
	FILE *p = popen("systemctl show -p MainPID --value polkit.service", "r");
	long pid = 0;

	if (p) {
		if (fscanf(p, "%ld", &pid) != 1)
			pid = 0;
		pclose(p);
	}
	return (pid_t)pid;
}

/* nobody sends n CreateVm at once on one connection and reports how many
 * were refused LimitsExceeded before polkit answered (pipe), then waits for
 * the rest. */
static int nobody_floods(int n, int report_fd)
{
	sd_bus_message *m[16] = { 0 };
	uint64_t cookie[16];
	int limited = 0, answered = 0;
	struct vc c;

	if (become(&nobody) < 0 || vc_connect_system(&c) < 0 || n > 16)
		return 10;
	for (int i = 0; i < n; i++) {
		if (sd_bus_message_new_method_call(c.bus, &m[i], VIOMMU_BUS_NAME, VC_ROOT,
						   VC_MANAGER, "CreateVm") < 0 ||
		    sd_bus_message_append(m[i], "sa{sv}", "flood", 0) < 0 ||
		    sd_bus_send(c.bus, m[i], &cookie[i]) < 0)
			return 11;
	}
	/* What is answered while polkitd is stopped: wait for the first answer
	 * (up to 20 s: TCG under load is slow), then 2 s more for any other. */
	for (time_t end = time(NULL) + 20; time(NULL) < end;) {
		sd_bus_message *reply = NULL;
		uint64_t reply_cookie = 0;

		if (sd_bus_process(c.bus, &reply) > 0 && reply) {
			/* Replies only, not the bus's NameAcquired. */
			if (sd_bus_message_get_reply_cookie(reply, &reply_cookie) < 0) {
				sd_bus_message_unref(reply);
				continue;
			}
			if (sd_bus_message_is_method_error(reply, LIMITS_EXCEEDED))
				limited++;
			else
				printf("# nobody's call %" PRIu64 " answered: %s\n", reply_cookie,
				       sd_bus_message_is_method_error(reply, NULL)
					       ? sd_bus_message_get_error(reply)->message
					       : "a method return");
			if (answered++ == 0)
				end = time(NULL) + 2;
			sd_bus_message_unref(reply);
			continue;
		}
		sd_bus_wait(c.bus, 200000);
	}
	if (write(report_fd, &limited, sizeof(limited)) != sizeof(limited) ||
	    write(report_fd, &answered, sizeof(answered)) != sizeof(answered))
		return 12;
	for (int i = 0; i < n; i++)
		sd_bus_message_unref(m[i]);
	vc_close(&c);
	return 0;
}

static void test_loop_does_not_wait(void)
{
	pid_t polkitd = polkitd_pid(), child;
	int fds[2], limited = -1, answered = -1, status;
	char **vms = NULL;
	struct vc c;

	check_note("polkitd is pid %d", (int)polkitd);
	CHECK(polkitd > 1);
	CHECK(kill(polkitd, SIGSTOP) == 0);
	CHECK(pipe(fds) == 0);
	fflush(stdout);
	child = fork();
	if (child == 0) {
		close(fds[0]);
		_exit(nobody_floods(9, fds[1]));
	}
	close(fds[1]);
	/* Root meanwhile: answered, though nobody's calls wait for polkit. */
	CHECK_OK(vc_connect_system(&c));
	sleep(1);
	CHECK_OK(vc_list(&c, "ListVms", &vms));
	vc_strv_free(vms);
	CHECK_OK(vc_call(&c, VC_ROOT, VC_MANAGER, "ListOrphans", NULL, ""));
	vc_close(&c);
	CHECK(read(fds[0], &limited, sizeof(limited)) == sizeof(limited));
	CHECK(read(fds[0], &answered, sizeof(answered)) == sizeof(answered));
	close(fds[0]);
	kill(polkitd, SIGCONT);
	CHECK(waitpid(child, &status, 0) == child);
	check_note("while polkitd was stopped: %d of 9 answered, %d LimitsExceeded", answered,
		   limited);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	/* Eight wait per uid; the ninth is refused at once, no more. */
	CHECK_EQ(limited, 1);
	CHECK_EQ(answered, 1);
}

static void test_without_polkit(void)
{
	CHECK(shell("systemctl mask --runtime polkit.service && "
		    "systemctl stop polkit.service") == 0);
	/* viommud.conf: vm_users [65534], no groups, no fast path. */
	expect(&nobody, PROBE_CREATE, NULL, true, NULL);
	expect(&nobody, PROBE_FAST_PATH, nobody_vm, false, "fast_path_users");
	expect(&member, PROBE_CREATE, NULL, false, "vm_users");
	expect(&member, PROBE_BIND, NULL, false, "root's");
	expect(&root, PROBE_CREATE, NULL, true, NULL);
	CHECK(shell("systemctl unmask --runtime polkit.service") == 0);
}

/* Whether cmd's output (as root) has text. */
static bool output_has(const char *cmd, const char *text)
{
	FILE *p = popen(cmd, "r");
	char line[1024];
	bool found = false;

	while (p && fgets(line, sizeof(line), p))
		found = found || strstr(line, text);
	if (p)
		pclose(p);
	if (!found)
		check_note("\"%s\" did not say \"%s\"", cmd, text);
	return found;
}

/* The object tree on the real system bus: the tools see every VM (root),
 * and nobody's GetManagedObjects shows its own VM and not the others. */
static void test_object_tree(void)
{
	char gdbus[512], mine[260], members[260], roots[260], *objects;
	int pipefd[2], status;
	ssize_t n = 0;
	pid_t pid;

	CHECK(output_has("busctl --system tree --list org.viommu1", member_vm));
	CHECK(output_has("busctl --system tree --list org.viommu1", edu_path));
	snprintf(gdbus, sizeof(gdbus),
		 "gdbus introspect --system --dest org.viommu1 --object-path /org/viommu1 "
		 "--recurse");
	CHECK(output_has(gdbus, "interface org.viommu1.Vm"));
	CHECK(output_has(gdbus, "interface org.freedesktop.DBus.ObjectManager"));

	objects = calloc(1, 65536);
	CHECK(objects);
	CHECK(pipe(pipefd) == 0);
	fflush(stdout);
	pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		close(pipefd[0]);
		if (become(&nobody) < 0 || dup2(pipefd[1], STDOUT_FILENO) < 0)
			_exit(1);
		execlp("busctl", "busctl", "--system", "call", "org.viommu1", "/org/viommu1",
		       "org.freedesktop.DBus.ObjectManager", "GetManagedObjects", (char *)NULL);
		_exit(127);
	}
	close(pipefd[1]);
	for (ssize_t k; (k = read(pipefd[0], objects + n, 65535 - (size_t)n)) > 0;)
		n += k;
	close(pipefd[0]);
	CHECK(waitpid(pid, &status, 0) == pid);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	/* busctl quotes each path: "/org/viommu1/vm/2" is not in ".../vm/21". */
	snprintf(mine, sizeof(mine), "\"%s\"", nobody_vm);
	snprintf(members, sizeof(members), "\"%s\"", member_vm);
	snprintf(roots, sizeof(roots), "\"%s\"", root_vm);
	if (!strstr(objects, mine) || strstr(objects, members) || strstr(objects, roots))
		check_note("nobody's GetManagedObjects: %.2000s", objects);
	CHECK(strstr(objects, mine));
	CHECK(!strstr(objects, members));
	CHECK(!strstr(objects, roots));
	free(objects);
}

/* Root may destroy every user's VM: the kept ones go. */
static void test_cleanup(void)
{
	const char *kept[] = { root_vm, member_vm, nobody_vm };
	char **vms = NULL;
	struct vc c;

	CHECK_OK(vc_connect_system(&c));
	for (size_t i = 0; i < sizeof(kept) / sizeof(kept[0]); i++)
		if (kept[i][0])
			CHECK_OK(vc_destroy(&c, kept[i], VC_VM));
	CHECK_OK(vc_list(&c, "ListVms", &vms));
	CHECK(!vms || !vms[0]);
	vc_strv_free(vms);
	vc_close(&c);
}

int main(int argc, char **argv)
{
	static const struct check_case cases[] = {
		CHECK_CASE(test_setup),
		CHECK_CASE(test_shipped_rules),
		CHECK_CASE(test_rules_file),
		CHECK_CASE(test_loop_does_not_wait),
		CHECK_CASE(test_without_polkit),
		CHECK_CASE(test_object_tree),
		CHECK_CASE(test_cleanup),
	};

	return check_run(cases, sizeof(cases) / sizeof(cases[0]), argc, argv);
}
