#include "db/pg_statements.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

namespace sb {
namespace {

// Prepared statements are looked up by name on a connection: two statements under one name would
// run the wrong SQL.
TEST(PgStatementsTest, EveryStoreStatementHasItsOwnNameAndSomeSql) {
  std::set<std::string> names;
  for (const pgsql::Statement* statement : pgsql::kStoreStatements) {
    ASSERT_NE(statement, nullptr);
    EXPECT_TRUE(names.insert(statement->name).second) << "duplicate name " << statement->name;
    EXPECT_NE(std::string(statement->sql), "") << statement->name;
  }
  EXPECT_TRUE(names.contains(pgsql::kClaimMeeting.name));
  EXPECT_TRUE(names.contains(pgsql::kFindMeeting.name));
}

}  // namespace
}  // namespace sb
