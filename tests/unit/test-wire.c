/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Device names and object paths (lib/wire), both ways. */
#include <errno.h>
#include <string.h>

#include "check.h"
#include "wire.h"

static void test_name_to_path_and_back(void)
{
	static const char *const names[][2] = {
		{ "0000:00:05.0", "0000:00:05.0" },    { "00:05.0", "0000:00:05.0" },
		{ "0000:0A:1F.7", "0000:0a:1f.7" },    { "10000:01:00.1", "10000:01:00.1" },
		{ "selftest0", "selftest0" },	       { "selftest12", "selftest12" },
	};
	char path[128], name[WIRE_DEVICE_NAME_MAX];

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		CHECK_OK(wire_device_path(names[i][0], path, sizeof(path)));
		CHECK_OK(wire_device_name(path, name, sizeof(name)));
		CHECK_STREQ(name, names[i][1]);
	}
	CHECK_OK(wire_device_path("00:05.0", path, sizeof(path)));
	CHECK_STREQ(path, VIOMMU_DEVICE_PREFIX "/0000_00_05_0");
}

static void test_not_device_paths(void)
{
	static const char *const bad[] = {
		"",
		"/org/viommu1/vm/1",
		VIOMMU_DEVICE_PREFIX,
		VIOMMU_DEVICE_PREFIX "/",
		VIOMMU_DEVICE_PREFIX "/0000_00_05",
		VIOMMU_DEVICE_PREFIX "/0000_00_05_8",
		VIOMMU_DEVICE_PREFIX "/0000_00_20_0",
		VIOMMU_DEVICE_PREFIX "/0000_0A_05_0",
		VIOMMU_DEVICE_PREFIX "/0000-00-05-0",
		VIOMMU_DEVICE_PREFIX "/selftest",
		VIOMMU_DEVICE_PREFIX "/selftestx",
		VIOMMU_DEVICE_PREFIX "/0000_00_05_0/x",
	};
	char name[WIRE_DEVICE_NAME_MAX];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CHECK_RET(wire_device_name(bad[i], name, sizeof(name)), -EINVAL);
	CHECK_RET(wire_device_name(NULL, name, sizeof(name)), -EINVAL);
	CHECK_RET(wire_device_name(VIOMMU_DEVICE_PREFIX "/0000_00_05_0", name, 12), -ENAMETOOLONG);
}

int main(int argc, char **argv)
{
	static const struct check_case cases[] = {
		CHECK_CASE(test_name_to_path_and_back),
		CHECK_CASE(test_not_device_paths),
	};

	return check_run(cases, sizeof(cases) / sizeof(cases[0]), argc, argv);
}
