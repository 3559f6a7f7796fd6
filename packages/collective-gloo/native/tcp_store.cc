#include "tcp_store.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <stdexcept>

#include "store_limits.h"
#include "store_listen.h"
#include "wire.h"

namespace fulmen {

using Clock = std::chrono::steady_clock;

namespace {

// Replies to Get and Set.
constexpr uint8_t kFound = 0;
constexpr uint8_t kRefused = 1;  // Set: over a limit (with a message); Get: timed out (with a hint)
constexpr uint8_t kConflict = 2;  // Get: the ranks disagree on the world size (with the message)

}  // namespace

struct TcpStoreServer::State {
  std::string secret;
  int worldSize = 1;
  std::string where;
  std::mutex mutex;
  std::condition_variable changed;
  std::map<std::string, std::vector<char>> values;
  size_t storedBytes = 0;
  struct Beat {
    bool closed = false;
    bool failed = false;
    Clock::time_point lastSeen;
  };
  std::map<int, Beat> beats;
  // Which process holds each rank, and by how many open connections: a second process claiming a held rank is
  // another job on this port (or a duplicated RANK).
  struct Claim {
    SessionId session{};
    int open = 0;
  };
  std::map<int, Claim> claims;
  std::set<int> connections;
  // Connections in their handshake by arrival (oldest first), and the threads serving them (dropped ones too,
  // until they end).
  std::map<uint64_t, int> waiting;
  uint64_t arrivals = 0;
  size_t pending = 0;
  size_t members = 0;
  // Set when a connection claimed another world size: every waiting and later Get fails with it.
  std::string conflict;
  std::set<int> claimedWrongWorld;
  uint64_t refusedProofs = 0;
  bool stopping = false;
  // Every connection's thread until it is joined, by arrival; `finished` lists those whose serve() has returned
  // (the accept loop joins them as it goes, the destructor joins the rest). Joined, never detached: a thread that
  // had only said it was done could still be ending (running OpenSSL's thread-exit handler) when the process
  // exits, and OpenSSL's cleanup at exit frees the same state under it (double free or corruption).
  std::map<uint64_t, std::thread> threads;
  std::vector<uint64_t> finished;
};

TcpStoreServer::TcpStoreServer(const StoreServerOptions& options) : state_(std::make_shared<State>()) {
  requireCrypto();
  Listener listener = listenOn(options.host, options.port);
  // Without a secret anyone who reaches the port could use the store: allowed only where that is this machine.
  if (options.secret.empty() && !listener.loopback) {
    ::close(listener.fd);
    throw std::runtime_error("the rendezvous store would listen on " + listener.address +
                             ", which other machines can reach, without a secret: set FULMEN_STORE_SECRET to the "
                             "same random value on every node (e.g. FULMEN_STORE_SECRET=$(openssl rand -hex 32))");
  }
  listenFd_ = listener.fd;
  port_ = listener.port;
  address_ = listener.address;
  state_->secret = options.secret;
  state_->worldSize = options.worldSize;
  state_->where = address_ + ":" + std::to_string(port_);
  acceptThread_ = std::thread([this] { acceptLoop(); });
}

TcpStoreServer::~TcpStoreServer() {
  {
    std::lock_guard<std::mutex> lock(state_->mutex);
    state_->stopping = true;
    for (int fd : state_->connections) ::shutdown(fd, SHUT_RDWR);
  }
  state_->changed.notify_all();
  // Shutting the listener down wakes the accept thread; it is closed only once that thread has ended, so the
  // thread never calls accept on a descriptor number that another thread's socket has taken over meanwhile.
  ::shutdown(listenFd_, SHUT_RDWR);
  if (acceptThread_.joinable()) acceptThread_.join();
  ::close(listenFd_);
  // Every socket a connection's thread waits on is shut down and every waiting Get wakes on `stopping`: join them
  // all, so that none is still running (inside OpenSSL's thread-exit handler, or this addon's code) when the
  // process goes on to exit. No new thread starts: the accept thread has ended.
  std::map<uint64_t, std::thread> threads;
  {
    std::lock_guard<std::mutex> lock(state_->mutex);
    threads.swap(state_->threads);
    state_->finished.clear();
  }
  for (auto& entry : threads)
    if (entry.second.joinable()) entry.second.join();
}

void TcpStoreServer::joinFinished() {
  std::vector<std::thread> done;
  {
    std::lock_guard<std::mutex> lock(state_->mutex);
    for (uint64_t arrival : state_->finished) {
      auto found = state_->threads.find(arrival);
      if (found == state_->threads.end()) continue;
      done.push_back(std::move(found->second));
      state_->threads.erase(found);
    }
    state_->finished.clear();
  }
  // They have returned from serve(): these joins are short.
  for (auto& thread : done) thread.join();
}

void TcpStoreServer::acceptLoop() {
  for (;;) {
    int fd = ::accept4(listenFd_, nullptr, nullptr, SOCK_CLOEXEC);
    uint64_t arrival = 0;
    // The threads of connections that ended since: joined here, so that they do not pile up over a long run.
    joinFinished();
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
        // Out of descriptors or memory for now: a burst of connections must not end the store for good.
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
        std::lock_guard<std::mutex> lock(state_->mutex);
        if (state_->stopping) return;
        continue;
      }
      return;
    }
    {
      std::lock_guard<std::mutex> lock(state_->mutex);
      if (state_->stopping) {
        ::close(fd);
        return;
      }
      // One thread per connection, but only so many that have not proven themselves: a flood of strangers
      // never costs a thread each.
      if (state_->pending >= kMaxHandshakeThreads) {
        ::close(fd);
        continue;
      }
      // Every slot taken: the connection that has waited longest makes room, so strangers that connect and say
      // nothing cannot keep a rank out by holding them all. Only shut down here: its own thread closes it.
      if (state_->waiting.size() >= kMaxPendingConnections) {
        ::shutdown(state_->waiting.begin()->second, SHUT_RDWR);
        state_->waiting.erase(state_->waiting.begin());
      }
      arrival = state_->arrivals++;
      state_->waiting.emplace(arrival, fd);
      state_->pending++;
      state_->connections.insert(fd);
      // Started under the lock, so the thread is in `threads` before it can say it has finished.
      try {
        auto slot = state_->threads.emplace(arrival, std::thread()).first;
        try {
          slot->second = std::thread(serve, state_, fd, arrival);
        } catch (...) {
          state_->threads.erase(slot);
          throw;
        }
      } catch (const std::exception&) {
        state_->waiting.erase(arrival);
        state_->pending--;
        state_->connections.erase(fd);
        ::close(fd);
      }
    }
  }
}

void TcpStoreServer::serve(std::shared_ptr<State> state, int fd, uint64_t arrival) {
  bool member = false;
  int rank = -1;
  try {
    // A stranger may not hold a thread for long: the whole handshake has a deadline.
    setSocketTimeout(fd, kHandshakeTimeout);
    PendingClient client;
    if (!readClientProof(fd, state->secret, &client, Clock::now() + kHandshakeTimeout)) {
      std::lock_guard<std::mutex> lock(state->mutex);
      state->refusedProofs++;
    } else {
      const Identity& who = client.identity;
      HandshakeReply decision = HandshakeReply::Accepted;
      std::string message;
      bool newConflict = false;
      {
        std::lock_guard<std::mutex> lock(state->mutex);
        // Dropped to make room while proving itself: it was shut down, and is not let in.
        if (state->waiting.erase(arrival) == 0) throw std::runtime_error("dropped during the handshake");
        if (who.worldSize != static_cast<uint32_t>(state->worldSize)) {
          decision = HandshakeReply::WorldSizeMismatch;
          message = "ranks disagree on the world size: rank " + std::to_string(who.rank) + " has WORLD_SIZE=" +
                    std::to_string(who.worldSize) + ", but rank 0 (which hosts the rendezvous store at " +
                    state->where + ") has WORLD_SIZE=" + std::to_string(state->worldSize) +
                    "; start every rank with the same WORLD_SIZE";
          if (state->conflict.empty()) {
            state->conflict = message;
            newConflict = true;
          }
          state->claimedWrongWorld.insert(static_cast<int>(who.rank));
        } else if (who.rank >= who.worldSize) {
          throw ProtocolViolation("a rank outside the world");
        } else {
          auto claim = state->claims.find(static_cast<int>(who.rank));
          if (claim != state->claims.end() && claim->second.open > 0 && claim->second.session != who.session) {
            decision = HandshakeReply::RankTaken;
            message = "rank " + std::to_string(who.rank) + " is already connected to the rendezvous store at " +
                      state->where +
                      " from another process: another job uses this port (set MASTER_PORT to a free port), or "
                      "two processes were started as the same rank";
          } else if (state->members >= maxMemberConnections(state->worldSize)) {
            decision = HandshakeReply::Busy;
          } else {
            auto& held = state->claims[static_cast<int>(who.rank)];
            held.session = who.session;
            held.open++;
            state->members++;
            state->pending--;
            member = true;
            rank = static_cast<int>(who.rank);
          }
        }
      }
      if (newConflict) state->changed.notify_all();
      if (member) {
        acceptClient(fd, state->secret, client);
        // The handshake was this thread's last use of OpenSSL: free its OpenSSL state now, not when the thread
        // ends, which for a member's connection is usually as the process exits (see releaseThreadCrypto).
        releaseThreadCrypto();
        // A member's connection may rightly stay quiet for a whole training run.
        setSocketTimeout(fd, std::chrono::milliseconds(0));
        serveMember(state, fd, rank);
      } else {
        refuseClient(fd, decision, message);
      }
    }
  } catch (const std::exception&) {
    // A broken connection or a protocol violation ends this session like a closed one; nothing it claimed was
    // allocated, and the liveness record below tells the others when a rank's connection went away.
  }
  releaseThreadCrypto();  // a refused or broken handshake's thread (a no-op where it was already released)
  {
    std::lock_guard<std::mutex> lock(state->mutex);
    state->finished.push_back(arrival);
    if (member) {
      state->members--;
      state->claims[rank].open--;
    } else {
      state->waiting.erase(arrival);
      state->pending--;
    }
    state->connections.erase(fd);
    ::close(fd);
  }
  // Waiters on a member's departure (awaitConflictHeard).
  state->changed.notify_all();
}

bool TcpStoreServer::hasConflict() {
  std::lock_guard<std::mutex> lock(state_->mutex);
  return !state_->conflict.empty();
}

void TcpStoreServer::awaitConflictHeard(std::chrono::milliseconds grace) {
  std::unique_lock<std::mutex> lock(state_->mutex);
  state_->changed.wait_for(lock, grace, [&] {
    for (int r = 1; r < state_->worldSize; r++) {
      if (state_->claimedWrongWorld.count(r) > 0) continue;
      auto claim = state_->claims.find(r);
      // Not yet connected, or still connected: it has not both heard and gone.
      if (claim == state_->claims.end() || claim->second.open > 0) return false;
    }
    return true;
  });
}

void TcpStoreServer::serveMember(const std::shared_ptr<State>& state, int fd, int rank) {
  bool registered = false;
  try {
    for (;;) {
      uint8_t op;
      if (!readAll(fd, &op, 1)) break;
      switch (static_cast<StoreOp>(op)) {
        case StoreOp::Set: {
          std::vector<char> keyBytes = readBytes(fd, kMaxKeyBytes);
          std::vector<char> value = readBytes(fd, kMaxValueBytes);
          std::string key(keyBytes.begin(), keyBytes.end());
          std::string refusal;
          {
            std::lock_guard<std::mutex> lock(state->mutex);
            auto found = state->values.find(key);
            size_t replaced = found == state->values.end() ? 0 : found->second.size();
            if (found == state->values.end() && state->values.size() >= kMaxKeys) {
              refusal = "the rendezvous store holds its limit of " + std::to_string(kMaxKeys) + " keys";
            } else if (state->storedBytes - replaced + value.size() > kMaxStoredBytes) {
              refusal = "the rendezvous store holds its limit of " + std::to_string(kMaxStoredBytes >> 20) +
                        " MiB of values";
            } else {
              state->storedBytes = state->storedBytes - replaced + value.size();
              state->values[key] = std::move(value);
            }
          }
          if (refusal.empty()) {
            state->changed.notify_all();
            writeAll(fd, &kFound, 1);
          } else {
            writeAll(fd, &kRefused, 1);
            writeBytes(fd, refusal);
          }
          break;
        }
        case StoreOp::Get: {
          std::vector<char> keyBytes = readBytes(fd, kMaxKeyBytes);
          std::string key(keyBytes.begin(), keyBytes.end());
          auto deadline = Clock::now() + std::chrono::milliseconds(readU32(fd));
          std::vector<char> reply;
          uint8_t status = kRefused;
          {
            std::unique_lock<std::mutex> lock(state->mutex);
            state->changed.wait_until(lock, deadline, [&] {
              return state->stopping || !state->conflict.empty() || state->values.count(key) > 0;
            });
            auto found = state->values.find(key);
            std::string text;
            if (!state->conflict.empty()) {
              status = kConflict;
              text = state->conflict;
            } else if (found != state->values.end()) {
              status = kFound;
              reply = found->second;
            } else if (state->refusedProofs > 0) {
              text = std::to_string(state->refusedProofs) +
                     " connection(s) to the store were refused for a wrong FULMEN_STORE_SECRET; set the same value "
                     "on every rank";
            }
            if (status != kFound) reply.assign(text.begin(), text.end());
          }
          writeAll(fd, &status, 1);
          writeBytes(fd, reply);
          break;
        }
        case StoreOp::Register: {
          registered = true;
          std::lock_guard<std::mutex> lock(state->mutex);
          state->beats[rank] = State::Beat{false, false, Clock::now()};
          break;
        }
        case StoreOp::Failed: {
          {
            std::lock_guard<std::mutex> lock(state->mutex);
            state->beats[rank].failed = true;
          }
          uint8_t ok = 1;
          writeAll(fd, &ok, 1);
          break;
        }
        case StoreOp::Heartbeat: {
          std::lock_guard<std::mutex> lock(state->mutex);
          if (registered) state->beats[rank].lastSeen = Clock::now();
          break;
        }
        case StoreOp::Status: {
          std::vector<RankLiveness> report;
          {
            std::lock_guard<std::mutex> lock(state->mutex);
            auto now = Clock::now();
            for (const auto& [r, beat] : state->beats) {
              auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now - beat.lastSeen).count();
              report.push_back({r, beat.closed, beat.failed, static_cast<uint32_t>(ms)});
            }
          }
          writeU32(fd, static_cast<uint32_t>(report.size()));
          for (const auto& r : report) {
            writeU32(fd, static_cast<uint32_t>(r.rank));
            uint8_t closed = (r.connectionClosed ? 1 : 0) | (r.reportedFailure ? 2 : 0);
            writeAll(fd, &closed, 1);
            writeU32(fd, r.msSinceHeartbeat);
          }
          break;
        }
        default:
          throw ProtocolViolation("unknown store request");
      }
    }
  } catch (const std::exception&) {
    // Handled like a closed connection (below).
  }
  if (registered) {
    std::lock_guard<std::mutex> lock(state->mutex);
    state->beats[rank].closed = true;
  }
}

static std::vector<RankLiveness> readLiveness(int fd, int worldSize) {
  std::vector<RankLiveness> report;
  uint32_t count = readU32(fd);
  if (count > static_cast<uint32_t>(worldSize)) throw ProtocolViolation("a liveness report longer than the world");
  for (uint32_t i = 0; i < count; i++) {
    RankLiveness r{};
    r.rank = static_cast<int>(readU32(fd));
    uint8_t closed;
    if (!readAll(fd, &closed, 1)) throw std::runtime_error("connection closed");
    r.connectionClosed = (closed & 1) != 0;
    r.reportedFailure = (closed & 2) != 0;
    r.msSinceHeartbeat = readU32(fd);
    report.push_back(r);
  }
  return report;
}

TcpStoreClient::TcpStoreClient(const std::string& host, int port, std::chrono::milliseconds timeout,
                               const std::string& secret, int rank, int worldSize)
    : host_(host), port_(port), timeout_(timeout), secret_(secret) {
  requireCrypto();
  identity_.rank = static_cast<uint32_t>(rank);
  identity_.worldSize = static_cast<uint32_t>(worldSize);
  randomBytes(identity_.session.data(), identity_.session.size());
  fd_ = openConnection(Clock::now() + timeout);
  localAddress_ = localAddressOf(fd_);
}

TcpStoreClient::~TcpStoreClient() {
  {
    std::lock_guard<std::mutex> lock(heartbeatMutex_);
    stopHeartbeat_ = true;
  }
  heartbeatWake_.notify_all();
  if (heartbeatThread_.joinable()) heartbeatThread_.join();
  if (heartbeatFd_ >= 0) ::close(heartbeatFd_);
  if (fd_ >= 0) ::close(fd_);
}

int TcpStoreClient::openConnection(Clock::time_point deadline) {
  for (;;) {
    int fd = connectWithRetry(host_, port_, deadline);
    try {
      // The handshake's reads end by the caller's deadline too (a diagnosis asks a stopped rank 0 for 1.5 s,
      // not for the store's 5 s handshake limit), with a moment's grace when it has already passed.
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
      setSocketTimeout(fd, std::clamp(left, std::chrono::milliseconds(100),
                                      std::chrono::duration_cast<std::chrono::milliseconds>(kHandshakeTimeout)));
      proveMembership(fd, secret_, identity_, where());
      setSocketTimeout(fd, std::chrono::milliseconds(0));
      return fd;
    } catch (const HandshakeRetry& e) {
      ::close(fd);
      if (Clock::now() >= deadline)
        throw std::runtime_error(std::string("could not join the rendezvous store before the timeout: ") + e.what());
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    } catch (...) {
      ::close(fd);
      throw;
    }
  }
}

void TcpStoreClient::set(const std::string& key, const std::vector<char>& data) {
  // Checked here too, so a rank over a limit gets this message instead of a dropped connection.
  if (key.size() > kMaxKeyBytes || data.size() > kMaxValueBytes)
    throw std::runtime_error("the rendezvous store takes keys of at most " + std::to_string(kMaxKeyBytes) +
                             " bytes and values of at most " + std::to_string(kMaxValueBytes >> 20) + " MiB; '" +
                             key.substr(0, 64) + "' has a " + std::to_string(key.size()) + "-byte key and a " +
                             std::to_string(data.size()) + "-byte value");
  std::lock_guard<std::mutex> lock(mutex_);
  uint8_t status;
  std::vector<char> message;
  try {
    uint8_t op = static_cast<uint8_t>(StoreOp::Set);
    writeAll(fd_, &op, 1);
    writeBytes(fd_, key);
    writeBytes(fd_, data);
    if (!readAll(fd_, &status, 1)) throw std::runtime_error("connection closed");
    if (status != kFound) message = readBytes(fd_, kMaxMessageBytes);
  } catch (const std::exception& e) {
    throw lostStore(e);
  }
  if (status != kFound) {
    throw std::runtime_error("the rendezvous store at " + where() + " refused key '" + key.substr(0, 64) +
                             "': " + std::string(message.begin(), message.end()));
  }
}

std::vector<char> TcpStoreClient::getWithTimeout(const std::string& key, std::chrono::milliseconds timeout) {
  if (key.size() > kMaxKeyBytes)
    throw std::runtime_error("the rendezvous store takes keys of at most " + std::to_string(kMaxKeyBytes) + " bytes");
  std::lock_guard<std::mutex> lock(mutex_);
  uint8_t status;
  std::vector<char> value;
  try {
    uint8_t op = static_cast<uint8_t>(StoreOp::Get);
    writeAll(fd_, &op, 1);
    writeBytes(fd_, key);
    writeU32(fd_, static_cast<uint32_t>(timeout.count()));
    if (!readAll(fd_, &status, 1)) throw std::runtime_error("connection closed");
    value = readBytes(fd_, kMaxValueBytes);
  } catch (const std::exception& e) {
    throw lostStore(e);
  }
  if (status == kConflict) throw std::runtime_error(std::string(value.begin(), value.end()));
  if (status != kFound) {
    std::string hint(value.begin(), value.end());
    throw std::runtime_error("timed out after " + std::to_string(timeout.count()) + " ms waiting for key '" + key +
                             "' in the rendezvous store at " + where() +
                             ": a rank did not join (check WORLD_SIZE and that every rank was started)" +
                             (hint.empty() ? "" : "; " + hint));
  }
  return value;
}

std::runtime_error TcpStoreClient::lostStore(const std::exception& cause) const {
  return std::runtime_error("lost the rendezvous store at " + where() +
                            " in the middle of a request (" + cause.what() +
                            "): rank 0, which hosts it, failed or ended; its output says why");
}

std::vector<char> TcpStoreClient::get(const std::string& key) { return getWithTimeout(key, timeout_); }

void TcpStoreClient::wait(const std::vector<std::string>& keys) { wait(keys, timeout_); }

void TcpStoreClient::wait(const std::vector<std::string>& keys, const std::chrono::milliseconds& timeout) {
  for (const auto& key : keys) getWithTimeout(key, timeout);
}

void TcpStoreClient::startHeartbeat(std::chrono::milliseconds interval) {
  heartbeatFd_ = openConnection(Clock::now() + timeout_);
  uint8_t op = static_cast<uint8_t>(StoreOp::Register);
  writeAll(heartbeatFd_, &op, 1);
  // Each beat also fetches the liveness table, so a rank can still name a culprit after rank 0 (and the store
  // with it) has gone away.
  setSocketTimeout(heartbeatFd_, std::chrono::milliseconds(1000));
  const int worldSize = static_cast<int>(identity_.worldSize);
  heartbeatThread_ = std::thread([this, interval, worldSize] {
    std::unique_lock<std::mutex> lock(heartbeatMutex_);
    while (!heartbeatWake_.wait_for(lock, interval, [this] { return stopHeartbeat_.load(); })) {
      try {
        uint8_t beat = static_cast<uint8_t>(StoreOp::Heartbeat);
        writeAll(heartbeatFd_, &beat, 1);
        uint8_t status = static_cast<uint8_t>(StoreOp::Status);
        writeAll(heartbeatFd_, &status, 1);
        std::vector<RankLiveness> report = readLiveness(heartbeatFd_, worldSize);
        std::lock_guard<std::mutex> cacheLock(cacheMutex_);
        cachedLiveness_ = std::move(report);
        cachedAt_ = Clock::now();
      } catch (const std::exception&) {
        std::lock_guard<std::mutex> cacheLock(cacheMutex_);
        storeLostAt_ = Clock::now();
        return;  // The store host is gone or stopped; collectives report that themselves.
      }
    }
  });
}

void TcpStoreClient::reportFailure(std::chrono::milliseconds timeout) {
  try {
    int fd = openConnection(Clock::now() + timeout);
    setSocketTimeout(fd, timeout);
    try {
      uint8_t op = static_cast<uint8_t>(StoreOp::Failed);
      writeAll(fd, &op, 1);
      uint8_t ok;
      readAll(fd, &ok, 1);
    } catch (const std::exception&) {
    }
    ::close(fd);
  } catch (const std::exception&) {
    // The store is gone: nobody is left to tell.
  }
}

std::vector<RankLiveness> TcpStoreClient::lastLiveness() {
  std::lock_guard<std::mutex> lock(cacheMutex_);
  auto until = std::min(Clock::now(), storeLostAt_);
  auto age = static_cast<uint32_t>(
      std::chrono::duration_cast<std::chrono::milliseconds>(until - cachedAt_).count());
  std::vector<RankLiveness> report = cachedLiveness_;
  for (auto& r : report) r.msSinceHeartbeat += age;
  return report;
}

std::vector<RankLiveness> TcpStoreClient::liveness(std::chrono::milliseconds timeout) {
  // A fresh connection: the main one may be mid-request when a collective failed on another thread.
  int fd = openConnection(Clock::now() + timeout);
  setSocketTimeout(fd, timeout);
  std::vector<RankLiveness> report;
  try {
    uint8_t op = static_cast<uint8_t>(StoreOp::Status);
    writeAll(fd, &op, 1);
    report = readLiveness(fd, static_cast<int>(identity_.worldSize));
  } catch (...) {
    ::close(fd);
    throw;
  }
  ::close(fd);
  return report;
}

}  // namespace fulmen
