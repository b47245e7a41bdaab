/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Prometheus text checked by Debian's promtool (the prometheus package). */
#pragma once

/* A CHECK that `promtool check metrics` accepts text, lint included, and says
 * nothing: what it says is noted. Without promtool the case is skipped, or
 * fails when CI=true (scripts/install-deps.sh installs it). */
void check_promtool(const char *text);
