// Applies the numbered, forward-only SQL files of migrations/ to PostgreSQL (`switchboard
// migrate`) and tells whether a database's schema is what this binary needs (the router and the
// poller refuse to start on a schema that is behind: "run `switchboard migrate`").
//
// Where the migrations come from: every migrations/NNNN_name.sql of the source tree is embedded
// into the binary at build time (db/CMakeLists.txt generates the list), so the executable needs
// no folder next to it and always carries exactly the schema its code expects. MIGRATIONS_DIR,
// when set, replaces the embedded list with the files of that folder (operators trying a
// migration, tests); see findMigrations().
//
// A migration's version is the number its file name starts with ("0001" for 0001_init.sql);
// migrations apply in numeric order, each inside its own transaction together with its row in
// schema_migrations(version text primary key, applied_at timestamptz). A file must therefore not
// contain BEGIN/COMMIT, nor statements that cannot run in a transaction.
// Concurrent `migrate` runs (two containers starting at once) are safe: every step holds a
// PostgreSQL advisory lock, so each migration is applied exactly once and the others wait.
//
// Thread-safety: a Migrator may be used from several threads; its state is the database's.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace sb {

class PgConnection;

struct Migration {
  std::string version;  // "0001"
  std::string name;     // "0001_init" (the file name without ".sql")
  std::string sql;
  bool operator==(const Migration&) const = default;
};

struct SchemaStatus {
  std::string current;               // highest version applied ("" = none, an empty database)
  std::string latest;                // highest version this binary knows
  std::vector<std::string> pending;  // known but not applied, in the order they would apply
  std::vector<std::string> unknown;  // applied but unknown here (a newer binary migrated)
  bool upToDate() const { return pending.empty(); }
};

class Migrator {
 public:
  // `migrations` as returned by findMigrations() (any order; they are sorted by version).
  Migrator(PgConnection& pg, std::vector<Migration> migrations);

  // Applies every pending migration, in order, each in its own transaction; stops at the first
  // that fails (it is rolled back; the ones before stay applied). Returns how many this call
  // applied (0 when up to date, also when a concurrent run applied them).
  Result<int> migrate();

  // What is applied versus what this binary knows. Only reads (creates nothing).
  Result<SchemaStatus> status();

  const std::vector<Migration>& migrations() const { return migrations_; }

 private:
  PgConnection& pg_;
  std::vector<Migration> migrations_;  // sorted by numeric version; immutable after construction
};

// The migrations compiled into this binary (the source tree's migrations/*.sql), sorted.
const std::vector<Migration>& embeddedMigrations();

// The NNNN_name.sql files of `dir`, sorted by version; other files (README.md) are ignored.
// kInvalidArgument when the folder cannot be read, holds no migration, or two files share a
// version.
Result<std::vector<Migration>> loadMigrations(const std::filesystem::path& dir);

// MIGRATIONS_DIR's files when `dir` is not empty (the caller read the variable at start-up),
// else the embedded ones.
Result<std::vector<Migration>> findMigrations(std::string_view dir);

// Parses "0001_init.sql" into version "0001" and name "0001_init"; false when the file name is
// not a migration's.
bool parseMigrationFileName(std::string_view fileName, std::string& version, std::string& name);

}  // namespace sb
