// Blocking socket helpers and the framing of the rendezvous store's protocol: every field is a little-endian
// u32 length followed by bytes, so one read loop serves requests and replies.
#pragma once

#include <chrono>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace fulmen {

enum class StoreOp : uint8_t { Set = 1, Get = 2, Heartbeat = 3, Status = 4, Register = 5, Failed = 6 };

/** Thrown when a peer breaks the protocol (a length over its limit, an unknown request): drop the connection. */
struct ProtocolViolation : std::runtime_error {
  using std::runtime_error::runtime_error;
};

/** Writes all of `data`; throws std::runtime_error on a closed or broken socket. */
void writeAll(int fd, const void* data, size_t size);
/** Reads exactly `size` bytes; returns false when the peer closed the connection before the first byte. */
bool readAll(int fd, void* data, size_t size);
/**
 * readAll that ends at `deadline` however the bytes trickle in (throws std::runtime_error then): a per-read
 * timeout alone lets a peer sending one byte just inside each timeout hold the connection almost indefinitely.
 */
bool readAllBefore(int fd, void* data, size_t size, std::chrono::steady_clock::time_point deadline);

void writeU32(int fd, uint32_t value);
uint32_t readU32(int fd);
void writeBytes(int fd, const std::string& bytes);
void writeBytes(int fd, const std::vector<char>& bytes);
/** Reads a length-prefixed field; a length over `maxBytes` throws ProtocolViolation before anything is allocated. */
std::vector<char> readBytes(int fd, uint32_t maxBytes);

/** Opens a TCP connection to host:port, retrying until `deadline` (the server may not be listening yet). */
int connectWithRetry(const std::string& host, int port, std::chrono::steady_clock::time_point deadline);
/** The local address of a connected socket: the address this host uses to reach its peer. */
std::string localAddressOf(int fd);
/** Bounds a blocking read or write on `fd` so a stopped peer cannot hang the caller forever. */
void setSocketTimeout(int fd, std::chrono::milliseconds timeout);

}  // namespace fulmen
