// One process group: a Gloo context over the tcp transport, its rendezvous store, and the collectives Fulmen
// needs, all on Gloo's Options/unbound-buffer API (the old algorithm classes pin the socket send buffer to the
// first message's size and slow every later transfer).
#pragma once

#include <gloo/context.h>
#include <gloo/rendezvous/store.h>
#include <gloo/transport/tcp/attr.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "half.h"
#include "tcp_store.h"

namespace fulmen {

enum class DType { Float32, Int32, Float16, Bfloat16, Uint8 };
enum class ReduceOp { Sum, Mean, Max, Min };

struct GroupOptions {
  int rank = 0;
  int worldSize = 1;
  std::string storeKind = "tcp";  // "tcp" (rank 0 hosts it) or "file" (a shared directory)
  std::string host = "127.0.0.1";
  int port = 0;
  std::string bindHost;  // where rank 0's store listens; default: `host` (MASTER_ADDR)
  std::string secret;    // the job's store secret (FULMEN_STORE_SECRET); empty: none, loopback only
  std::string path;
  std::string prefix = "fulmen";
  std::string hostname;  // the address this rank's transport binds; default: the route to the store's host
  std::string iface;
  std::chrono::milliseconds timeout{30000};
};

class Group {
 public:
  explicit Group(GroupOptions options);
  /**
   * A subgroup of `parent` (connected) made of the ranks `members` (parent ranks, in the subgroup's rank order),
   * meeting through the parent's store under `name`, which every member gives the same and no other subgroup of
   * the parent uses. This process must be one of the members.
   */
  Group(std::shared_ptr<Group> parent, std::vector<int> members, const std::string& name);
  ~Group();

  /** Meets every rank through the store and connects the full mesh; blocks until all joined or timeout. */
  void connect();
  int rank() const { return options_.rank; }
  /** This process's rank in the whole job (the root group's rank), for messages and liveness. */
  int globalRank() const { return parent_ ? parent_->globalRank(members_[options_.rank]) : options_.rank; }
  int worldSize() const { return options_.worldSize; }
  int storePort() const { return storePort_; }
  /** The numeric address rank 0's store listens on; empty on other ranks. */
  std::string storeAddress() const { return server_ ? server_->address() : std::string(); }
  /** A tag for the next operation; taken in call order on the JS thread so every rank agrees. */
  uint32_t nextTag() { return tag_++; }

  void allReduce(void* data, size_t count, DType type, ReduceOp op, uint32_t tag);
  void allGather(const void* in, void* out, size_t bytesPerRank, uint32_t tag);
  void reduceScatter(const void* in, void* out, size_t countPerRank, DType type, ReduceOp op, uint32_t tag);
  void broadcast(void* data, size_t bytes, int root, uint32_t tag);
  void barrier(uint32_t tag);
  void close();

  /** Runs a collective, turning a failure into one message naming the operation, this rank and the culprit. */
  template <typename F>
  void guarded(const char* operation, F&& body) {
    if (broken_) throw std::runtime_error(brokenMessage_);
    try {
      body();
    } catch (const std::exception& e) {
      fail(operation, e.what());
    }
  }

 private:
  [[noreturn]] void fail(const char* operation, const std::string& cause);
  /** The job-wide rank of this group's rank `rank`. */
  int globalRank(int rank) const { return parent_ ? parent_->globalRank(members_[rank]) : rank; }
  /** Whether the job-wide rank `global` belongs to this group. */
  bool isMember(int global) const;
  /** Whether this process hosts the root group's store (rank 0 of the job). */
  bool hostsStore() const { return server_ != nullptr || (parent_ && parent_->hostsStore()); }
  /** What a failure message calls this process: its rank, and its place in a subgroup. */
  std::string describeRank() const;
  std::string diagnosePeers();
  void checkWorldSizeThroughStore();
  void awaitSurvivorsDiagnosis();

  GroupOptions options_;
  std::unique_ptr<TcpStoreServer> server_;
  std::shared_ptr<TcpStoreClient> tcpStore_;
  std::shared_ptr<gloo::rendezvous::Store> store_;
  std::shared_ptr<gloo::Context> context_;
  gloo::transport::tcp::attr attr_;
  // A subgroup's parent (kept alive: its store carries the subgroup's rendezvous) and the parent ranks of the
  // subgroup's ranks; none for the root group.
  std::shared_ptr<Group> parent_;
  std::vector<int> members_;
  int storePort_ = 0;
  std::atomic<uint32_t> tag_{1};
  std::atomic<bool> broken_{false};
  std::string brokenMessage_;
  std::mutex failMutex_;
};

}  // namespace fulmen
