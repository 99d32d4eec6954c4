#include "core/balancing/hash_strategy.h"

namespace sb {
namespace {

constexpr uint64_t kFnvOffsetBasis = 0xcbf29ce484222325ULL;
constexpr uint64_t kFnvPrime = 0x100000001b3ULL;

uint64_t fnv1a(uint64_t h, std::string_view bytes) {
  for (unsigned char c : bytes) {
    h ^= c;
    h *= kFnvPrime;
  }
  return h;
}

// MurmurHash3's 64-bit finalizer: FNV-1a alone mixes the last bytes poorly into the high bits,
// and the server ids usually differ only in their last characters.
uint64_t fmix64(uint64_t k) {
  k ^= k >> 33;
  k *= 0xff51afd7ed558ccdULL;
  k ^= k >> 33;
  k *= 0xc4ceb9fe1a85ec53ULL;
  k ^= k >> 33;
  return k;
}

}  // namespace

uint64_t HashStrategy::score(std::string_view meetingId, std::string_view serverId) {
  uint64_t h = fnv1a(kFnvOffsetBasis, meetingId);
  h = fnv1a(h, std::string_view("\0", 1));
  h = fnv1a(h, serverId);
  return fmix64(h);
}

const Server* HashStrategy::choose(const std::vector<const Server*>& candidates,
                                   std::string_view meetingId) {
  const Server* best = nullptr;
  uint64_t bestScore = 0;
  for (const Server* s : candidates) {
    uint64_t sc = score(meetingId, s->id);
    if (best == nullptr || sc > bestScore || (sc == bestScore && s->id < best->id)) {
      best = s;
      bestScore = sc;
    }
  }
  return best;
}

}  // namespace sb
