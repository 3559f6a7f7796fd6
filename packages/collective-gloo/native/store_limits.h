// What the rendezvous store accepts. Every bound is checked before the memory or thread it protects is taken,
// so neither a stranger on the network nor a buggy member can grow rank 0 without limit.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>

namespace fulmen {

/** Longest key (PyTorch's store also refuses keys of more than a few KiB; Gloo's keys are tens of bytes). */
constexpr uint32_t kMaxKeyBytes = 4096;
/** Largest value: Gloo stores one rank's addresses (about 100 bytes per peer) under a key. */
constexpr uint32_t kMaxValueBytes = 64u << 20;
/** Most distinct keys: Gloo writes one per rank. */
constexpr size_t kMaxKeys = 65536;
/** Most bytes held in all values together. */
constexpr size_t kMaxStoredBytes = size_t{1} << 30;
/**
 * Connections still proving they belong to the job. A newcomer beyond them is still greeted: the one that has
 * waited longest is dropped to make room (a real rank proves itself within a round trip, so strangers holding
 * every slot cannot keep it out; the dropped one, if it was a rank, connects again).
 */
constexpr size_t kMaxPendingConnections = 64;
/**
 * Threads of connections in their handshake, counting dropped ones that have not ended yet; past it newcomers
 * are closed at once, so a flood of connections never costs more threads than this.
 */
constexpr size_t kMaxHandshakeThreads = 2 * kMaxPendingConnections;
/** How long a new connection may take to prove it belongs to the job, all of its bytes together. */
constexpr auto kHandshakeTimeout = std::chrono::milliseconds(5000);
/** Longest message the store sends back with a refusal. */
constexpr uint32_t kMaxMessageBytes = 4096;

/**
 * Most authenticated connections at once: each rank holds two (requests, heartbeat) and briefly opens up to two
 * more while diagnosing a failure; the slack absorbs connections whose close the store has not noticed yet.
 */
constexpr size_t maxMemberConnections(int worldSize) { return 4 * static_cast<size_t>(worldSize) + 16; }

}  // namespace fulmen
