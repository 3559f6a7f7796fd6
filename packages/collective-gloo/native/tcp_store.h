// The rendezvous key-value store over TCP that Gloo lacks: rank 0 hosts the server on native threads (never on
// the JS thread, which blocks inside collectives), every rank talks to it through a gloo Store client. The same
// server tracks liveness: each rank keeps a heartbeat connection, so after a failed collective the survivors
// can say which rank died (its connection closed) or hangs (its heartbeats stopped).
//
// Only the job may use it: it listens on the job's address alone (store_listen.h), every connection first proves
// it knows the job's secret (store_auth.h), and every size, count and thread it could be made to take is bounded
// (store_limits.h). A connection also says its rank and world size, so ranks that disagree on WORLD_SIZE, or a
// second job's rank arriving on this port, fail at once on every rank instead of inside Gloo.
#pragma once

#include <gloo/rendezvous/store.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "store_auth.h"

namespace fulmen {

struct RankLiveness {
  int rank;
  bool connectionClosed;
  bool reportedFailure;  // it saw a collective fail itself, so its exit is a consequence, not the cause
  uint32_t msSinceHeartbeat;
};

struct StoreServerOptions {
  /** The address to listen on (a name or a numeric address; "0.0.0.0" or "::" for every interface). */
  std::string host = "127.0.0.1";
  int port = 0;
  /** The job's secret; empty only when listening on loopback. */
  std::string secret;
  /** Rank 0's world size: a connection claiming another is refused, and fails the rendezvous on every rank. */
  int worldSize = 1;
};

class TcpStoreServer {
 public:
  /** Listens (port 0 picks a free one); throws naming the address when the port is taken. */
  explicit TcpStoreServer(const StoreServerOptions& options);
  ~TcpStoreServer();
  int port() const { return port_; }
  /** The numeric address it listens on. */
  const std::string& address() const { return address_; }
  /** Whether a connection claimed another world size (the rendezvous then fails on every rank). */
  bool hasConflict();
  /**
   * Keeps serving until every other rank has heard of the conflict and gone (or was the one refused), at most
   * `grace`: rank 0's process usually ends right after its own failure and takes the store along.
   */
  void awaitConflictHeard(std::chrono::milliseconds grace);

 private:
  struct State;
  void acceptLoop();
  static void serve(std::shared_ptr<State> state, int fd, uint64_t arrival);
  static void serveMember(const std::shared_ptr<State>& state, int fd, int rank);
  /** Joins the threads of connections that have ended (the accept thread calls it between connections). */
  void joinFinished();

  std::shared_ptr<State> state_;
  int listenFd_ = -1;
  int port_ = 0;
  std::string address_;
  std::thread acceptThread_;
};

class TcpStoreClient : public gloo::rendezvous::Store {
 public:
  /** Connects as `rank` of `worldSize`, proving membership with `secret` (empty: the store must have none). */
  TcpStoreClient(const std::string& host, int port, std::chrono::milliseconds timeout, const std::string& secret,
                 int rank, int worldSize);
  ~TcpStoreClient() override;

  void set(const std::string& key, const std::vector<char>& data) override;
  std::vector<char> get(const std::string& key) override;
  void wait(const std::vector<std::string>& keys) override;
  void wait(const std::vector<std::string>& keys, const std::chrono::milliseconds& timeout) override;

  /** The address of this host as seen on the route to the store's host. */
  const std::string& localAddress() const { return localAddress_; }
  /** Starts this rank's heartbeat connection (a thread sending a beat every `interval`). */
  void startHeartbeat(std::chrono::milliseconds interval);
  /** What the server knows of each rank's liveness; throws when the server does not answer in `timeout`. */
  std::vector<RankLiveness> liveness(std::chrono::milliseconds timeout);
  /** Tells the store that this rank saw a collective fail (best effort, bounded by `timeout`). */
  void reportFailure(std::chrono::milliseconds timeout);
  /** The last liveness report the heartbeat thread received (ages advanced to now); empty before the first. */
  std::vector<RankLiveness> lastLiveness();

 private:
  std::vector<char> getWithTimeout(const std::string& key, std::chrono::milliseconds timeout);
  /** The error for a request that lost the store midway: rank 0 failed or ended. */
  std::runtime_error lostStore(const std::exception& cause) const;
  /** A new connection that has passed the handshake; retries until `deadline` while the store may still accept. */
  int openConnection(std::chrono::steady_clock::time_point deadline);
  std::string where() const { return host_ + ":" + std::to_string(port_); }

  std::string host_;
  int port_;
  std::chrono::milliseconds timeout_;
  std::string secret_;
  Identity identity_;
  int fd_ = -1;
  std::mutex mutex_;
  std::string localAddress_;
  int heartbeatFd_ = -1;
  std::atomic<bool> stopHeartbeat_{false};
  std::mutex heartbeatMutex_;
  std::condition_variable heartbeatWake_;
  std::thread heartbeatThread_;
  std::mutex cacheMutex_;
  std::vector<RankLiveness> cachedLiveness_;
  std::chrono::steady_clock::time_point cachedAt_;
  // When the heartbeat lost the store: ages stop there, or a gone rank 0 would make everyone look hung.
  std::chrono::steady_clock::time_point storeLostAt_ = std::chrono::steady_clock::time_point::max();
};

}  // namespace fulmen
