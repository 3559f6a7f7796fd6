#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

#if !defined(_WIN32)
#include <pthread.h>
#endif

#if defined(__x86_64__)
#include <immintrin.h>
#endif

#include "parallel.h"

namespace fulmen {

namespace {

inline void relax() {
#if defined(__x86_64__)
  _mm_pause();
#endif
}

// True on the pool's workers and on a caller while its job runs: a kernel that calls parallelFor from inside a
// chunk runs that work itself (the pool is busy with the outer job; waiting for it would deadlock).
thread_local bool insidePool = false;

// Workers wait for a new generation of work, run their chunk, and count down; the caller waits for zero. A
// worker polls briefly (4000 pauses) before it sleeps: a training step runs kernels back to back, and
// waking a sleeping thread costs tens of µs on a virtual machine. 1000 and 16000 measured slower here.
//
// A worker is handed the generation it starts from, read under the mutex before the thread exists. (It used to
// read the counter once it first ran; a resize or run that bumped it in between was never seen, so that worker
// slept through its first job or its stop and the caller waited forever, e.g. in resize's join.)
// One job or resize at a time (serial_): two callers on different threads would otherwise overwrite each
// other's job, and a resize would replace the workers under a running job.
class Pool {
 public:
  int threads() const { return threads_.load(); }

  void resize(int threads) {
    std::lock_guard<std::mutex> serial(serial_);
    if (threads == threads_.load()) return;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stopping_ = true;
      generation_.fetch_add(1);
    }
    wake_.notify_all();
    for (auto& w : workers_) w.join();
    workers_.clear();
    threads_.store(1);
    uint64_t start;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stopping_ = false;
      start = generation_.load();
    }
    // threads_ always counts the workers that exist: when the system refuses a thread, the pool keeps those
    // started (a chunk index without its worker would leave run() waiting forever) and the error goes up.
    try {
      for (int i = 1; i < threads; i++) workers_.emplace_back([this, i, start] { loop(i, start); });
    } catch (...) {
      threads_.store(static_cast<int>(workers_.size()) + 1);
      throw;
    }
    threads_.store(threads);
  }

  void parallelFor(int64_t n, int64_t grain, const std::function<void(int64_t, int64_t)>& fn) {
    if (insidePool) {
      if (n > 0) fn(0, n);
      return;
    }
    // Under serial_ the thread count cannot change between splitting the work and running it.
    std::unique_lock<std::mutex> serial(serial_);
    const int64_t chunks = std::min<int64_t>(threads_.load(), grain > 0 ? n / grain : 1);
    if (chunks <= 1) {
      // Unsplit work runs on this thread without holding the pool, so that it may split work of its own.
      serial.unlock();
      if (n > 0) fn(0, n);
      return;
    }
    const int64_t size = (n + chunks - 1) / chunks;
    run(static_cast<int>(chunks), [&](int c) {
      const int64_t begin = c * size, end = std::min(n, begin + size);
      if (begin < end) fn(begin, end);
    });
  }

 private:
  // Caller holds serial_.
  void run(int chunks, const std::function<void(int)>& chunk) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      job_ = &chunk;
      chunks_ = chunks;
      failure_ = nullptr;
      remaining_.store(chunks - 1);
      generation_.fetch_add(1);
    }
    wake_.notify_all();
    // The workers hold a reference to `chunk`: whatever this chunk does, wait for theirs before leaving.
    std::exception_ptr own;
    insidePool = true;
    try {
      chunk(0);
    } catch (...) {
      own = std::current_exception();
    }
    insidePool = false;
    // The other chunks are about as long as this one: poll briefly, then sleep.
    for (int spin = 0; spin < 4000 && remaining_.load() != 0; spin++) relax();
    std::unique_lock<std::mutex> lock(mutex_);
    done_.wait(lock, [this] { return remaining_.load() == 0; });
    if (own) std::rethrow_exception(own);
    if (failure_) std::rethrow_exception(failure_);
  }

  void loop(int index, uint64_t seen) {
    insidePool = true;
    for (;;) {
      for (int spin = 0; spin < 4000 && generation_.load() == seen; spin++) relax();
      const std::function<void(int)>* job = nullptr;
      {
        std::unique_lock<std::mutex> lock(mutex_);
        wake_.wait(lock, [&] { return generation_.load() != seen; });
        seen = generation_.load();
        if (stopping_) return;
        if (index >= chunks_) continue;
        job = job_;
      }
      try {
        (*job)(index);
      } catch (...) {
        std::lock_guard<std::mutex> lock(mutex_);
        if (!failure_) failure_ = std::current_exception();
      }
      if (remaining_.fetch_sub(1) == 1) {
        std::lock_guard<std::mutex> lock(mutex_);
        done_.notify_one();
      }
    }
  }

  std::mutex serial_;
  std::vector<std::thread> workers_;
  std::atomic<int> threads_{1};
  std::mutex mutex_;
  std::condition_variable wake_, done_;
  const std::function<void(int)>* job_ = nullptr;
  std::exception_ptr failure_;
  std::atomic<uint64_t> generation_{0};
  std::atomic<int> remaining_{0};
  int chunks_ = 0;
  bool stopping_ = false;
};

// The pool is never destroyed: at process exit its workers just sleep, and nothing joins them while another
// thread may still be using the pool (a destructor would). After fork() only the forking thread exists in the
// child, so the child's next call starts a new pool of the same size, and the old one (whose workers and locks
// belong to the parent) is left alone.
std::atomic<Pool*> current{nullptr};
std::atomic<int> threadsInParent{1};

#if !defined(_WIN32)
void afterForkInChild() {
  insidePool = false;
  Pool* old = current.exchange(nullptr);
  if (old != nullptr) threadsInParent.store(old->threads());
}
#endif

Pool& pool() {
#if !defined(_WIN32)
  static const int registered = pthread_atfork(nullptr, nullptr, afterForkInChild);
  (void)registered;
#endif
  Pool* existing = current.load();
  if (existing != nullptr) return *existing;
  auto* fresh = new Pool();
  if (!current.compare_exchange_strong(existing, fresh)) {
    delete fresh;  // another thread installed one first
    return *existing;
  }
  fresh->resize(threadsInParent.load());
  return *fresh;
}

}  // namespace

void setParallelThreads(int threads) { pool().resize(std::max(1, threads)); }

void parallelFor(int64_t n, int64_t grain, const std::function<void(int64_t, int64_t)>& fn) {
  pool().parallelFor(n, grain, fn);
}

}  // namespace fulmen
