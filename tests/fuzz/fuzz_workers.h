// The worker pool of the fuzz targets that drive handlers answering on workers (BBB API, admin
// API): one thread, kept for the whole run, so tasks run in the order they were posted.
#pragma once

#include <future>

#include "router/worker_pool.h"

namespace sbfuzz {

inline sb::WorkerPool& workers() {
  static sb::WorkerPool pool(1);
  return pool;
}

// Waits until the worker has finished every task posted so far (they may still hold an input's
// objects after they replied): call it before those objects go.
inline void settle() {
  std::promise<void> done;
  workers().post([&done] { done.set_value(); });
  done.get_future().wait();
}

}  // namespace sbfuzz
