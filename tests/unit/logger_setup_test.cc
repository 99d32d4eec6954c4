// The logger is made before any test starts a thread, as `switchboard` does in main() before its
// threads (app/logging.cc). spdlog makes its registry lazily on first use; made by two test
// threads' first log lines at once, ThreadSanitizer cannot see spdlog's own (uninstrumented)
// synchronisation of that and reports a race on the registry.
#include <gtest/gtest.h>
#include <spdlog/spdlog.h>

namespace sb {
namespace {

[[maybe_unused]] const bool kLoggerMade = (spdlog::default_logger(), true);

TEST(LoggerSetupTest, TheDefaultLoggerExistsBeforeAnyTest) {
  EXPECT_NE(spdlog::default_logger_raw(), nullptr);
}

}  // namespace
}  // namespace sb
