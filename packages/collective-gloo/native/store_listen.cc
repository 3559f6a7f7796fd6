#include "store_listen.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace fulmen {

namespace {

std::string numeric(const sockaddr* addr) {
  char buf[INET6_ADDRSTRLEN] = {0};
  if (addr->sa_family == AF_INET)
    ::inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(addr)->sin_addr, buf, sizeof(buf));
  else if (addr->sa_family == AF_INET6)
    ::inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6*>(addr)->sin6_addr, buf, sizeof(buf));
  return buf;
}

bool isLoopback(const sockaddr* addr) {
  if (addr->sa_family == AF_INET)
    return (ntohl(reinterpret_cast<const sockaddr_in*>(addr)->sin_addr.s_addr) >> 24) == 127;
  if (addr->sa_family == AF_INET6) {
    const in6_addr& a = reinterpret_cast<const sockaddr_in6*>(addr)->sin6_addr;
    return IN6_IS_ADDR_LOOPBACK(&a) || (IN6_IS_ADDR_V4MAPPED(&a) && a.s6_addr[12] == 127);
  }
  return false;
}

int portOf(const sockaddr_storage& addr) {
  return addr.ss_family == AF_INET6 ? ntohs(reinterpret_cast<const sockaddr_in6*>(&addr)->sin6_port)
                                    : ntohs(reinterpret_cast<const sockaddr_in*>(&addr)->sin_port);
}

}  // namespace

Listener listenOn(const std::string& host, int port) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV;
  addrinfo* found = nullptr;
  int rc = ::getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &found);
  if (rc != 0)
    throw std::runtime_error("cannot resolve " + host + " to listen on for the rendezvous store: " +
                             gai_strerror(rc) + "; set MASTER_ADDR to rank 0's address");
  std::string notHere;
  for (addrinfo* ai = found; ai != nullptr; ai = ai->ai_next) {
    std::string address = numeric(ai->ai_addr);
    int fd = ::socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd < 0) continue;
    int one = 1;
    // Only lets a new store take a port whose previous connections linger in TIME_WAIT; a live listener on the
    // port still makes bind fail (Linux shares a listening port only with SO_REUSEPORT on both sides).
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (ai->ai_family == AF_INET6) {
      // "::" means every IPv6 and IPv4 interface, as it would for any server; a specific address is that only.
      int zero = 0;
      ::setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
    }
    if (::bind(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
      int error = errno;
      ::close(fd);
      if (error == EADDRINUSE) {
        ::freeaddrinfo(found);
        throw std::runtime_error("port " + std::to_string(port) + " on " + address +
                                 " is in use (another job?) — set MASTER_PORT to a free port");
      }
      notHere = address + " (" + std::strerror(error) + ")";
      continue;
    }
    if (::listen(fd, 1024) != 0) {
      std::string reason = std::strerror(errno);
      ::close(fd);
      ::freeaddrinfo(found);
      throw std::runtime_error("cannot listen on port " + std::to_string(port) + " on " + address +
                               " for the rendezvous store (" + reason + "); set MASTER_PORT to a free port");
    }
    ::freeaddrinfo(found);
    sockaddr_storage bound{};
    socklen_t len = sizeof(bound);
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &len);
    return Listener{fd, numeric(reinterpret_cast<sockaddr*>(&bound)), portOf(bound),
                    isLoopback(reinterpret_cast<sockaddr*>(&bound))};
  }
  ::freeaddrinfo(found);
  throw std::runtime_error("cannot listen on " + host + " for the rendezvous store: " +
                           (notHere.empty() ? std::string("no usable address") : notHere) +
                           " is not an address of this machine; run rank 0 on the host MASTER_ADDR names, or set "
                           "FULMEN_STORE_BIND_ADDR to one of this machine's addresses that the other nodes reach");
}

}  // namespace fulmen
