#include "wire.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <thread>

namespace fulmen {

void writeAll(int fd, const void* data, size_t size) {
  const char* p = static_cast<const char*>(data);
  while (size > 0) {
    ssize_t n = ::send(fd, p, size, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) throw std::runtime_error(std::string("write failed: ") + std::strerror(errno));
    p += n;
    size -= static_cast<size_t>(n);
  }
}

bool readAll(int fd, void* data, size_t size) {
  char* p = static_cast<char*>(data);
  size_t done = 0;
  while (done < size) {
    ssize_t n = ::recv(fd, p + done, size - done, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n == 0 && done == 0) return false;
    if (n == 0) throw std::runtime_error("connection closed in the middle of a message");
    if (n < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK) throw std::runtime_error("no answer within the timeout");
      throw std::runtime_error(std::string("read failed: ") + std::strerror(errno));
    }
    done += static_cast<size_t>(n);
  }
  return true;
}

bool readAllBefore(int fd, void* data, size_t size, std::chrono::steady_clock::time_point deadline) {
  char* p = static_cast<char*>(data);
  size_t done = 0;
  while (done < size) {
    auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) throw std::runtime_error("no answer within the timeout");
    pollfd waiting{fd, POLLIN, 0};
    int ready = ::poll(&waiting, 1, static_cast<int>(std::min<int64_t>(left.count(), 60000)));
    if (ready < 0 && errno == EINTR) continue;
    if (ready < 0) throw std::runtime_error(std::string("poll failed: ") + std::strerror(errno));
    if (ready == 0) continue;  // the deadline is checked at the top
    ssize_t n = ::recv(fd, p + done, size - done, MSG_DONTWAIT);
    if (n < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK)) continue;
    if (n == 0 && done == 0) return false;
    if (n == 0) throw std::runtime_error("connection closed in the middle of a message");
    if (n < 0) throw std::runtime_error(std::string("read failed: ") + std::strerror(errno));
    done += static_cast<size_t>(n);
  }
  return true;
}

void writeU32(int fd, uint32_t value) {
  unsigned char b[4] = {static_cast<unsigned char>(value), static_cast<unsigned char>(value >> 8),
                        static_cast<unsigned char>(value >> 16), static_cast<unsigned char>(value >> 24)};
  writeAll(fd, b, 4);
}

uint32_t readU32(int fd) {
  unsigned char b[4];
  if (!readAll(fd, b, 4)) throw std::runtime_error("connection closed");
  return static_cast<uint32_t>(b[0]) | (static_cast<uint32_t>(b[1]) << 8) | (static_cast<uint32_t>(b[2]) << 16) |
         (static_cast<uint32_t>(b[3]) << 24);
}

void writeBytes(int fd, const std::string& bytes) {
  writeU32(fd, static_cast<uint32_t>(bytes.size()));
  if (!bytes.empty()) writeAll(fd, bytes.data(), bytes.size());
}

void writeBytes(int fd, const std::vector<char>& bytes) {
  writeU32(fd, static_cast<uint32_t>(bytes.size()));
  if (!bytes.empty()) writeAll(fd, bytes.data(), bytes.size());
}

std::vector<char> readBytes(int fd, uint32_t maxBytes) {
  uint32_t size = readU32(fd);
  // Checked before the allocation: a peer's claimed length must never decide how much memory this process takes.
  if (size > maxBytes)
    throw ProtocolViolation("a field of " + std::to_string(size) + " bytes exceeds the limit of " +
                            std::to_string(maxBytes));
  std::vector<char> out(size);
  if (size > 0 && !readAll(fd, out.data(), size)) throw std::runtime_error("connection closed");
  return out;
}

int connectWithRetry(const std::string& host, int port, std::chrono::steady_clock::time_point deadline) {
  std::string lastError = "no attempt";
  do {
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* found = nullptr;
    int rc = ::getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &found);
    if (rc != 0) {
      lastError = std::string("cannot resolve ") + host + ": " + gai_strerror(rc);
    } else {
      for (addrinfo* ai = found; ai != nullptr; ai = ai->ai_next) {
        int fd = ::socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
        if (fd < 0) continue;
        if (::connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) {
          ::freeaddrinfo(found);
          int one = 1;
          ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
          return fd;
        }
        lastError = std::strerror(errno);
        ::close(fd);
      }
      ::freeaddrinfo(found);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  } while (std::chrono::steady_clock::now() < deadline);
  throw std::runtime_error("cannot reach the rendezvous store at " + host + ":" + std::to_string(port) + " (" +
                           lastError + ")");
}

std::string localAddressOf(int fd) {
  sockaddr_storage addr{};
  socklen_t len = sizeof(addr);
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) return "";
  char buf[INET6_ADDRSTRLEN] = {0};
  if (addr.ss_family == AF_INET) {
    ::inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(&addr)->sin_addr, buf, sizeof(buf));
  } else if (addr.ss_family == AF_INET6) {
    ::inet_ntop(AF_INET6, &reinterpret_cast<sockaddr_in6*>(&addr)->sin6_addr, buf, sizeof(buf));
  }
  return buf;
}

void setSocketTimeout(int fd, std::chrono::milliseconds timeout) {
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(timeout.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>((timeout.count() % 1000) * 1000);
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

}  // namespace fulmen
