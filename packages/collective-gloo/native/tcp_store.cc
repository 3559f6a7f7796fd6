#include "tcp_store.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <algorithm>
#include <cstring>
#include <stdexcept>

#include "wire.h"

namespace fulmen {

using Clock = std::chrono::steady_clock;

struct TcpStoreServer::State {
  std::mutex mutex;
  std::condition_variable changed;
  std::map<std::string, std::vector<char>> values;
  struct Beat {
    bool closed = false;
    bool failed = false;
    Clock::time_point lastSeen;
  };
  std::map<int, Beat> beats;
  std::set<int> connections;
  bool stopping = false;
};

static int listenAnyAddress(int port) {
  int fd = ::socket(AF_INET6, SOCK_STREAM, 0);
  bool v6 = fd >= 0;
  if (!v6) fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) throw std::runtime_error(std::string("socket: ") + std::strerror(errno));
  int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  int rc;
  if (v6) {
    int zero = 0;
    ::setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
    sockaddr_in6 addr{};
    addr.sin6_family = AF_INET6;
    addr.sin6_addr = in6addr_any;
    addr.sin6_port = htons(static_cast<uint16_t>(port));
    rc = ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  } else {
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_ANY);
    addr.sin_port = htons(static_cast<uint16_t>(port));
    rc = ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  }
  if (rc != 0 || ::listen(fd, 1024) != 0) {
    std::string reason = std::strerror(errno);
    ::close(fd);
    throw std::runtime_error("cannot listen on port " + std::to_string(port) + " for the rendezvous store (" +
                             reason + "); choose another MASTER_PORT");
  }
  return fd;
}

TcpStoreServer::TcpStoreServer(const std::string& /*host*/, int port) : state_(std::make_shared<State>()) {
  listenFd_ = listenAnyAddress(port);
  sockaddr_storage addr{};
  socklen_t len = sizeof(addr);
  ::getsockname(listenFd_, reinterpret_cast<sockaddr*>(&addr), &len);
  port_ = addr.ss_family == AF_INET6 ? ntohs(reinterpret_cast<sockaddr_in6*>(&addr)->sin6_port)
                                     : ntohs(reinterpret_cast<sockaddr_in*>(&addr)->sin_port);
  acceptThread_ = std::thread([this] { acceptLoop(); });
}

TcpStoreServer::~TcpStoreServer() {
  {
    std::lock_guard<std::mutex> lock(state_->mutex);
    state_->stopping = true;
    for (int fd : state_->connections) ::shutdown(fd, SHUT_RDWR);
  }
  state_->changed.notify_all();
  ::shutdown(listenFd_, SHUT_RDWR);
  ::close(listenFd_);
  if (acceptThread_.joinable()) acceptThread_.join();
}

void TcpStoreServer::acceptLoop() {
  for (;;) {
    int fd = ::accept(listenFd_, nullptr, nullptr);
    if (fd < 0) {
      if (errno == EINTR) continue;
      return;
    }
    {
      std::lock_guard<std::mutex> lock(state_->mutex);
      if (state_->stopping) {
        ::close(fd);
        return;
      }
      state_->connections.insert(fd);
    }
    std::thread(serve, state_, fd).detach();
  }
}

void TcpStoreServer::serve(std::shared_ptr<State> state, int fd) {
  int registeredRank = -1;
  try {
    for (;;) {
      uint8_t op;
      if (!readAll(fd, &op, 1)) break;
      switch (static_cast<StoreOp>(op)) {
        case StoreOp::Set: {
          std::vector<char> key = readBytes(fd);
          std::vector<char> value = readBytes(fd);
          {
            std::lock_guard<std::mutex> lock(state->mutex);
            state->values[std::string(key.begin(), key.end())] = std::move(value);
          }
          state->changed.notify_all();
          uint8_t ok = 1;
          writeAll(fd, &ok, 1);
          break;
        }
        case StoreOp::Get: {
          std::vector<char> keyBytes = readBytes(fd);
          std::string key(keyBytes.begin(), keyBytes.end());
          auto deadline = Clock::now() + std::chrono::milliseconds(readU32(fd));
          std::vector<char> value;
          uint8_t status = 1;
          {
            std::unique_lock<std::mutex> lock(state->mutex);
            state->changed.wait_until(lock, deadline,
                                      [&] { return state->stopping || state->values.count(key) > 0; });
            auto found = state->values.find(key);
            if (found != state->values.end()) {
              value = found->second;
              status = 0;
            }
          }
          writeAll(fd, &status, 1);
          writeBytes(fd, value);
          break;
        }
        case StoreOp::Register: {
          registeredRank = static_cast<int>(readU32(fd));
          std::lock_guard<std::mutex> lock(state->mutex);
          state->beats[registeredRank] = State::Beat{false, false, Clock::now()};
          break;
        }
        case StoreOp::Failed: {
          int rank = static_cast<int>(readU32(fd));
          std::lock_guard<std::mutex> lock(state->mutex);
          state->beats[rank].failed = true;
          uint8_t ok = 1;
          writeAll(fd, &ok, 1);
          break;
        }
        case StoreOp::Heartbeat: {
          std::lock_guard<std::mutex> lock(state->mutex);
          if (registeredRank >= 0) state->beats[registeredRank].lastSeen = Clock::now();
          break;
        }
        case StoreOp::Status: {
          std::vector<RankLiveness> report;
          {
            std::lock_guard<std::mutex> lock(state->mutex);
            auto now = Clock::now();
            for (const auto& [rank, beat] : state->beats) {
              auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now - beat.lastSeen).count();
              report.push_back({rank, beat.closed, beat.failed, static_cast<uint32_t>(ms)});
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
          throw std::runtime_error("unknown store request");
      }
    }
  } catch (const std::exception&) {
    // A broken connection ends this session like a closed one; the liveness record below tells the others.
  }
  std::lock_guard<std::mutex> lock(state->mutex);
  if (registeredRank >= 0) state->beats[registeredRank].closed = true;
  state->connections.erase(fd);
  ::close(fd);
}

static std::vector<RankLiveness> readLiveness(int fd) {
  std::vector<RankLiveness> report;
  uint32_t count = readU32(fd);
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

TcpStoreClient::TcpStoreClient(const std::string& host, int port, std::chrono::milliseconds timeout)
    : host_(host), port_(port), timeout_(timeout) {
  fd_ = connectWithRetry(host, port, Clock::now() + timeout);
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

void TcpStoreClient::set(const std::string& key, const std::vector<char>& data) {
  std::lock_guard<std::mutex> lock(mutex_);
  uint8_t op = static_cast<uint8_t>(StoreOp::Set);
  writeAll(fd_, &op, 1);
  writeBytes(fd_, key);
  writeBytes(fd_, data);
  uint8_t ok;
  if (!readAll(fd_, &ok, 1)) throw std::runtime_error("the rendezvous store closed the connection");
}

std::vector<char> TcpStoreClient::getWithTimeout(const std::string& key, std::chrono::milliseconds timeout) {
  std::lock_guard<std::mutex> lock(mutex_);
  uint8_t op = static_cast<uint8_t>(StoreOp::Get);
  writeAll(fd_, &op, 1);
  writeBytes(fd_, key);
  writeU32(fd_, static_cast<uint32_t>(timeout.count()));
  uint8_t status;
  if (!readAll(fd_, &status, 1)) throw std::runtime_error("the rendezvous store closed the connection");
  std::vector<char> value = readBytes(fd_);
  if (status != 0)
    throw std::runtime_error("timed out after " + std::to_string(timeout.count()) + " ms waiting for key '" + key +
                             "' in the rendezvous store at " + host_ + ":" + std::to_string(port_) +
                             ": a rank did not join (check WORLD_SIZE and that every rank was started)");
  return value;
}

std::vector<char> TcpStoreClient::get(const std::string& key) { return getWithTimeout(key, timeout_); }

void TcpStoreClient::wait(const std::vector<std::string>& keys) { wait(keys, timeout_); }

void TcpStoreClient::wait(const std::vector<std::string>& keys, const std::chrono::milliseconds& timeout) {
  for (const auto& key : keys) getWithTimeout(key, timeout);
}

void TcpStoreClient::startHeartbeat(int rank, std::chrono::milliseconds interval) {
  heartbeatFd_ = connectWithRetry(host_, port_, Clock::now() + timeout_);
  uint8_t op = static_cast<uint8_t>(StoreOp::Register);
  writeAll(heartbeatFd_, &op, 1);
  writeU32(heartbeatFd_, static_cast<uint32_t>(rank));
  // Each beat also fetches the liveness table, so a rank can still name a culprit after rank 0 (and the store
  // with it) has gone away.
  setSocketTimeout(heartbeatFd_, std::chrono::milliseconds(1000));
  heartbeatThread_ = std::thread([this, interval] {
    std::unique_lock<std::mutex> lock(heartbeatMutex_);
    while (!heartbeatWake_.wait_for(lock, interval, [this] { return stopHeartbeat_.load(); })) {
      try {
        uint8_t beat = static_cast<uint8_t>(StoreOp::Heartbeat);
        writeAll(heartbeatFd_, &beat, 1);
        uint8_t status = static_cast<uint8_t>(StoreOp::Status);
        writeAll(heartbeatFd_, &status, 1);
        std::vector<RankLiveness> report = readLiveness(heartbeatFd_);
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

void TcpStoreClient::reportFailure(int rank, std::chrono::milliseconds timeout) {
  try {
    int fd = connectWithRetry(host_, port_, Clock::now() + timeout);
    setSocketTimeout(fd, timeout);
    try {
      uint8_t op = static_cast<uint8_t>(StoreOp::Failed);
      writeAll(fd, &op, 1);
      writeU32(fd, static_cast<uint32_t>(rank));
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
  int fd = connectWithRetry(host_, port_, Clock::now() + timeout);
  setSocketTimeout(fd, timeout);
  std::vector<RankLiveness> report;
  try {
    uint8_t op = static_cast<uint8_t>(StoreOp::Status);
    writeAll(fd, &op, 1);
    report = readLiveness(fd);
  } catch (...) {
    ::close(fd);
    throw;
  }
  ::close(fd);
  return report;
}

}  // namespace fulmen
