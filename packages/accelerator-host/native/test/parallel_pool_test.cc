// Stress test of the host engine's thread pool (native/parallel_host.cc): resizes and runs many times while busy
// threads load every core, from one caller and from several at once, with nested and throwing jobs, and across
// fork(). Built and run by test/thread-pool.test.ts; prints "ok <checks>" and exits 0, or names the failed check
// and exits 1. A watchdog turns a hang (the pool losing a wake-up) into "hung in <phase> at iteration <i>" and
// exit 2.
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <random>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#if !defined(_WIN32)
#include <sys/wait.h>
#include <unistd.h>
#endif

#include "../parallel.h"

namespace {

std::atomic<long> progress{0};
std::atomic<const char*> phase{"start"};
std::atomic<long> iteration{0};
long checks = 0;

void fail(const std::string& what) {
  std::printf("%s\n", what.c_str());
  std::fflush(stdout);
  std::_Exit(1);
}

void step(long i) {
  iteration.store(i);
  progress.fetch_add(1);
}

// Splits [0, n) into `threads` chunks of `grain` and checks every item ran once, and on how many threads.
void runAndCheck(int threads, std::mutex* checkMutex) {
  const int64_t grain = 64, n = grain * threads;
  std::vector<std::atomic<int>> hits(n);
  std::mutex idsMutex;
  std::set<std::thread::id> ids;
  fulmen::parallelFor(n, grain, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; i++) hits[i].fetch_add(1);
    std::lock_guard<std::mutex> lock(idsMutex);
    ids.insert(std::this_thread::get_id());
  });
  for (int64_t i = 0; i < n; i++)
    if (hits[i].load() != 1) fail("item " + std::to_string(i) + " ran " + std::to_string(hits[i].load()) + " times");
  if (checkMutex == nullptr && static_cast<int>(ids.size()) != threads)
    fail(std::to_string(threads) + " threads ran on " + std::to_string(ids.size()));
  if (checkMutex != nullptr) {
    std::lock_guard<std::mutex> lock(*checkMutex);
    checks++;
  } else {
    checks++;
  }
}

}  // namespace

int main() {
  std::atomic<bool> finished{false};
  // Watchdog: no progress for 30 s is a hang (every step here takes far less, even on a loaded machine).
  std::thread watchdog([&] {
    long last = -1;
    for (int idle = 0;; idle++) {
      for (int t = 0; t < 10 && !finished.load(); t++) std::this_thread::sleep_for(std::chrono::milliseconds(100));
      if (finished.load()) return;
      const long now = progress.load();
      if (now != last) {
        last = now;
        idle = 0;
      } else if (idle >= 30) {
        std::printf("hung in %s at iteration %ld\n", phase.load(), iteration.load());
        std::fflush(stdout);
        std::_Exit(2);
      }
    }
  });
  watchdog.detach();

  // Load every core, so a new worker often starts only after the caller has moved on.
  std::atomic<bool> loading{true};
  std::vector<std::thread> load;
  const unsigned cores = std::max(2u, std::thread::hardware_concurrency());
  for (unsigned i = 0; i < cores; i++)
    load.emplace_back([&] {
      volatile unsigned long x = 0;
      while (loading.load(std::memory_order_relaxed)) x = x + 1;
    });

  std::mt19937 random(7);
  // 1. The reported hang: 2 threads, then 1, straight away; then random sizes, each followed by a run.
  phase.store("resize 2 -> 1");
  for (long i = 0; i < 500; i++) {
    fulmen::setParallelThreads(2);
    fulmen::setParallelThreads(1);
    checks++;
    step(i);
  }
  phase.store("resize then run");
  for (long i = 0; i < 1000; i++) {
    const int threads = 1 + static_cast<int>(random() % 4);
    fulmen::setParallelThreads(threads);
    runAndCheck(threads, nullptr);
    if (i % 3 == 0) runAndCheck(threads, nullptr);
    step(i);
  }

  // 2. Runs from several threads while another resizes: each run is whole, none waits forever.
  phase.store("concurrent runs and resizes");
  std::mutex checkMutex;
  std::atomic<bool> running{true};
  std::vector<std::thread> callers;
  for (int c = 0; c < 2; c++)
    callers.emplace_back([&, c] {
      for (long i = 0; running.load(); i++) {
        // Whatever the size is now: every item runs once.
        std::vector<std::atomic<int>> hits(4096);
        fulmen::parallelFor(4096, 64 + c, [&](int64_t begin, int64_t end) {
          for (int64_t k = begin; k < end; k++) hits[k].fetch_add(1);
        });
        for (auto& h : hits)
          if (h.load() != 1) fail("a run concurrent with others and with resizes missed or repeated an item");
        std::lock_guard<std::mutex> lock(checkMutex);
        checks++;
        progress.fetch_add(1);
      }
    });
  for (long i = 0; i < 500; i++) {
    fulmen::setParallelThreads(1 + static_cast<int>(random() % 4));
    step(i);
    std::this_thread::yield();
  }
  running.store(false);
  for (auto& t : callers) t.join();

  // 3. A kernel that splits work from inside a chunk runs it on its own thread instead of deadlocking.
  phase.store("nested");
  fulmen::setParallelThreads(3);
  for (long i = 0; i < 200; i++) {
    std::atomic<long> total{0};
    fulmen::parallelFor(3 * 64, 64, [&](int64_t begin, int64_t end) {
      fulmen::parallelFor(end - begin, 8, [&](int64_t b, int64_t e) { total.fetch_add(e - b); });
    });
    if (total.load() != 3 * 64) fail("nested parallelFor covered " + std::to_string(total.load()) + " of 192");
    checks++;
    step(i);
  }

  // 3b. Work too small to split runs on the caller's thread; if it splits work of its own, that work runs on the
  // pool (it once held the pool's lock meanwhile, so the inner call waited for itself forever).
  phase.store("nested in unsplit work");
  for (const int threads : {1, 3}) {
    fulmen::setParallelThreads(threads);
    for (long i = 0; i < 100; i++) {
      std::atomic<long> total{0};
      fulmen::parallelFor(10, 64, [&](int64_t, int64_t) { runAndCheck(threads, nullptr); total.fetch_add(1); });
      if (total.load() != 1) fail("unsplit work ran " + std::to_string(total.load()) + " times");
      step(i);
    }
  }

  // 4. A chunk that throws: the caller gets the exception after every chunk is done, and the pool still works.
  phase.store("throwing chunk");
  for (long i = 0; i < 200; i++) {
    const int thrower = static_cast<int>(i % 3);
    bool caught = false;
    try {
      fulmen::parallelFor(3 * 64, 64, [&](int64_t begin, int64_t) {
        if (begin / 64 == thrower) throw std::runtime_error("chunk failed");
      });
    } catch (const std::runtime_error&) {
      caught = true;
    }
    if (!caught) fail("an exception thrown in chunk " + std::to_string(thrower) + " was lost");
    runAndCheck(3, nullptr);
    step(i);
  }

#if !defined(_WIN32)
  // 5. fork(): the child has none of the parent's workers, yet splits work on as many threads as the parent had,
  // and exits normally (nothing waits there for the parent's threads). SIGALRM ends a child that hangs.
  phase.store("fork");
  fulmen::setParallelThreads(3);
  runAndCheck(3, nullptr);
  for (long i = 0; i < 5; i++) {
    std::fflush(stdout);
    const pid_t child = fork();
    if (child < 0) fail("fork failed");
    if (child == 0) {
      alarm(20);
      for (int k = 0; k < 50; k++) runAndCheck(3, nullptr);
      fulmen::setParallelThreads(2);
      runAndCheck(2, nullptr);
      std::exit(0);
    }
    int status = 0;
    waitpid(child, &status, 0);
    if (WIFSIGNALED(status))
      fail("a forked child was killed by signal " + std::to_string(WTERMSIG(status)) + " (it hung)");
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) fail("a forked child failed");
    runAndCheck(3, nullptr);  // the parent's pool is untouched
    step(i);
  }
#endif

  fulmen::setParallelThreads(1);
  loading.store(false);
  for (auto& t : load) t.join();
  finished.store(true);
  std::printf("ok %ld\n", checks);
  return 0;
}
