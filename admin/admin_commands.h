// The admin subcommands of the `switchboard` executable: `servers …`, `meetings …` and `status`,
// a thin client of a running router's admin API (see admin/README.md and AdminClient).
#pragma once

#include <CLI/CLI.hpp>

namespace sb::admin {

// Adds the subcommands `servers`, `meetings` and `status` (and their options) to `app`.
// Each leaf subcommand runs from its CLI11 callback when parsed. On failure it prints a clear
// message to stderr and throws CLI::RuntimeError(exitCode) (exit code 1 for API/usage errors,
// 2 when the router cannot be reached), which main() turns into the process exit code via
// app.exit(e).
void registerAdminCommands(CLI::App& app);

}  // namespace sb::admin
