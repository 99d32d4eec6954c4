// Recordings in PostgreSQL (migrations/0005_recordings.sql): the recording store of production.
// One row per recording: the filtered and ordered columns, the metadata as a JSON object for
// meta_ filters, and the whole recording as a JSON document. Queries run core's semantics in SQL
// (db/pg_statements.h); the contract suite (tests/unit/recording_store_contract.h) holds it to
// the memory store's answers.
// Thread-safety: every method may be called from any thread (PgConnection's pool).
#pragma once

#include "core/recordings/recording_store.h"
#include "db/pg_connection.h"

namespace sb {

class PgRecordingStore final : public RecordingStore {
 public:
  // `pg` must outlive the store.
  explicit PgRecordingStore(PgConnection& pg) : pg_(pg) {}

  Status put(const Recording& recording) override;
  Result<std::vector<Recording>> findExact(std::span<const std::string> recordIds,
                                           std::string_view tenant) override;
  Result<RecordingPage> query(const RecordingQuery& query) override;

 private:
  PgConnection& pg_;
};

}  // namespace sb
