// The rendezvous key-value store over TCP that Gloo lacks: rank 0 hosts the server on native threads (never on
// the JS thread, which blocks inside collectives), every rank talks to it through a gloo Store client. The same
// server tracks liveness: each rank keeps a heartbeat connection, so after a failed collective the survivors
// can say which rank died (its connection closed) or hangs (its heartbeats stopped).
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

namespace fulmen {

struct RankLiveness {
  int rank;
  bool connectionClosed;
  bool reportedFailure;  // it saw a collective fail itself, so its exit is a consequence, not the cause
  uint32_t msSinceHeartbeat;
};

class TcpStoreServer {
 public:
  /** Listens on `host:port` (port 0 picks a free one); throws when the address is taken. */
  TcpStoreServer(const std::string& host, int port);
  ~TcpStoreServer();
  int port() const { return port_; }

 private:
  struct State;
  void acceptLoop();
  static void serve(std::shared_ptr<State> state, int fd);

  std::shared_ptr<State> state_;
  int listenFd_ = -1;
  int port_ = 0;
  std::thread acceptThread_;
};

class TcpStoreClient : public gloo::rendezvous::Store {
 public:
  TcpStoreClient(const std::string& host, int port, std::chrono::milliseconds timeout);
  ~TcpStoreClient() override;

  void set(const std::string& key, const std::vector<char>& data) override;
  std::vector<char> get(const std::string& key) override;
  void wait(const std::vector<std::string>& keys) override;
  void wait(const std::vector<std::string>& keys, const std::chrono::milliseconds& timeout) override;

  /** The address of this host as seen on the route to the store's host. */
  const std::string& localAddress() const { return localAddress_; }
  /** Starts a heartbeat connection for `rank` (a thread sending a beat every `interval`). */
  void startHeartbeat(int rank, std::chrono::milliseconds interval);
  /** What the server knows of each rank's liveness; throws when the server does not answer in `timeout`. */
  std::vector<RankLiveness> liveness(std::chrono::milliseconds timeout);
  /** Tells the store that `rank` saw a collective fail (best effort, bounded by `timeout`). */
  void reportFailure(int rank, std::chrono::milliseconds timeout);
  /** The last liveness report the heartbeat thread received (ages advanced to now); empty before the first. */
  std::vector<RankLiveness> lastLiveness();

 private:
  std::vector<char> getWithTimeout(const std::string& key, std::chrono::milliseconds timeout);

  std::string host_;
  int port_;
  std::chrono::milliseconds timeout_;
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
