// Port: time. Tests use a manual clock so health, load buffers and grace periods are exact.
#pragma once

#include <chrono>
#include <cstdint>

namespace sb {

class Clock {
 public:
  virtual ~Clock() = default;
  virtual int64_t nowMs() const = 0;  // epoch milliseconds
};

class SystemClock final : public Clock {
 public:
  int64_t nowMs() const override {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  }
};

class ManualClock final : public Clock {
 public:
  explicit ManualClock(int64_t nowMs = 1'700'000'000'000) : now_(nowMs) {}
  int64_t nowMs() const override { return now_; }
  void advanceMs(int64_t ms) { now_ += ms; }
  void setMs(int64_t ms) { now_ = ms; }

 private:
  int64_t now_;  // not thread-safe: tests drive it from one thread
};

}  // namespace sb
