// The recording store contract (tests/unit/recording_store_contract.h) on the memory store.
#include "db/memory_recording_store.h"
#include "tests/unit/recording_store_contract.h"

namespace sb {

template <>
struct RecordingStoreMaker<MemoryRecordingStore> {
  static std::unique_ptr<MemoryRecordingStore> make() {
    return std::make_unique<MemoryRecordingStore>();
  }
};

INSTANTIATE_TYPED_TEST_SUITE_P(Memory, RecordingStoreContract, MemoryRecordingStore);

}  // namespace sb
