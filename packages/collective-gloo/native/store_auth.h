// The handshake that opens every connection to the rendezvous store: a connection proves it belongs to the job
// before a single request is read, and the store proves the same to it, without the secret crossing the wire.
//
//   store  -> client  "FULMSTO1" | flags u8 (bit 0: a secret is required) | server nonce [32]
//   client -> store   "FULMSTO1" | rank u32 | world size u32 | session [16] | client nonce [32] | client proof [32]
//   store  -> client  Accepted (0) | store proof [32]
//                  or WrongProof (1) | WorldSizeMismatch (2) or RankTaken (3) with a u32-prefixed message | Busy (4)
//
// client proof = HMAC-SHA256(secret, "fulmen-store-client-v1" | server nonce | rank | world size | session |
// client nonce); store proof = HMAC-SHA256(secret, "fulmen-store-server-v1" | server nonce | client nonce | rank |
// world size | session). Fresh nonces on both sides make a recorded exchange useless for another connection, and
// the store's proof keeps a rank from trusting whatever process got to the port first. Without a secret (allowed
// only on loopback) the key is a public constant: the exchange then still carries the identity, but proves
// nothing. Integers are little-endian. The session id is random per rank process: it tells the store that two
// connections claiming one rank come from different processes (another job on the same port).
//
// HMAC and the random bytes come from OpenSSL as Node itself carries it: an addon resolves those symbols from
// the Node process that loads it (Node exports its OpenSSL), so the addon needs no crypto library of its own.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <stdexcept>
#include <string>

namespace fulmen {

constexpr size_t kNonceBytes = 32;
constexpr size_t kProofBytes = 32;
constexpr size_t kSessionBytes = 16;
using Nonce = std::array<uint8_t, kNonceBytes>;
using Proof = std::array<uint8_t, kProofBytes>;
using SessionId = std::array<uint8_t, kSessionBytes>;

enum class HandshakeReply : uint8_t { Accepted = 0, WrongProof = 1, WorldSizeMismatch = 2, RankTaken = 3, Busy = 4 };

/** Who a connection says it is; the client's proof covers it. */
struct Identity {
  uint32_t rank = 0;
  uint32_t worldSize = 0;
  SessionId session{};
};

/**
 * Throws, naming what is missing and the fix, when this Node process does not carry the OpenSSL functions the
 * handshake calls. Node loads addons with lazy binding, so without this check a Node built without OpenSSL would
 * load the addon and then kill the whole process ("symbol lookup error") at the first handshake.
 */
void requireCrypto();

/** Cryptographically random bytes; throws when the generator fails. */
void randomBytes(uint8_t* out, size_t size);

/**
 * Frees the calling thread's OpenSSL state (its random generator and the exit handler that frees it), which the
 * thread would otherwise free as it ends. A thread of this addon calls it once it is done with OpenSSL: OpenSSL's
 * own cleanup at process exit (OPENSSL_cleanup, an atexit handler of Node's) assumes no other thread is using
 * OpenSSL and frees every thread's state, so a thread ending at that moment (a store connection closed by a peer
 * that just exited) would free the same memory twice. A thread that uses OpenSSL again later just gets new state.
 */
void releaseThreadCrypto();

/** The store's half of a handshake in progress: what the client said, and both nonces. */
struct PendingClient {
  Identity identity;
  Nonce serverNonce{};
  Nonce clientNonce{};
};

/**
 * Greets the client and reads its proof, which must arrive whole by `deadline`. Returns false after refusing a
 * wrong proof (the caller closes the connection); throws when the client breaks off, is too slow or speaks
 * another protocol. Nothing else is read before.
 */
bool readClientProof(int fd, const std::string& secret, PendingClient* client,
                     std::chrono::steady_clock::time_point deadline);
/** Accepts a client whose proof was right: replies Accepted with the store's proof. */
void acceptClient(int fd, const std::string& secret, const PendingClient& client);
/** Refuses a client whose proof was right but whose claim conflicts (world size, rank) or who came when full. */
void refuseClient(int fd, HandshakeReply reply, const std::string& message);

/** The store may accept a later attempt (it was full, or closed before greeting): connect again. */
struct HandshakeRetry : std::runtime_error {
  using std::runtime_error::runtime_error;
};

/**
 * A client's half: proves `identity` with `secret` (empty: none) and checks the store's proof. Throws
 * HandshakeRetry when another attempt may succeed, and std::runtime_error naming `where` and the fix otherwise.
 */
void proveMembership(int fd, const std::string& secret, const Identity& identity, const std::string& where);

}  // namespace fulmen
