#include "store_auth.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <dlfcn.h>

#include <cstring>
#include <mutex>
#include <vector>

#include "store_limits.h"
#include "wire.h"

namespace fulmen {

namespace {

constexpr char kMagic[8] = {'F', 'U', 'L', 'M', 'S', 'T', 'O', '1'};
constexpr uint8_t kSecretRequired = 1;
// The key when the job has no secret (loopback only): public, so the proofs prove nothing but stay well-formed.
constexpr char kNoSecretKey[] = "fulmen-store-without-secret";
constexpr size_t kGreetingBytes = sizeof(kMagic) + 1 + kNonceBytes;
constexpr size_t kClientBytes = sizeof(kMagic) + 4 + 4 + kSessionBytes + kNonceBytes + kProofBytes;

void putU32(std::vector<uint8_t>& out, uint32_t v) {
  for (int i = 0; i < 4; i++) out.push_back(static_cast<uint8_t>(v >> (8 * i)));
}

uint32_t getU32(const uint8_t* p) {
  return static_cast<uint32_t>(p[0]) | (static_cast<uint32_t>(p[1]) << 8) | (static_cast<uint32_t>(p[2]) << 16) |
         (static_cast<uint32_t>(p[3]) << 24);
}

template <size_t N>
void append(std::vector<uint8_t>& out, const std::array<uint8_t, N>& bytes) {
  out.insert(out.end(), bytes.begin(), bytes.end());
}

Proof hmac(const std::string& secret, const std::vector<uint8_t>& message) {
  const std::string& key = secret.empty() ? std::string(kNoSecretKey) : secret;
  Proof out{};
  unsigned int length = 0;
  if (HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), message.data(), message.size(), out.data(),
           &length) == nullptr ||
      length != kProofBytes)
    throw std::runtime_error("HMAC-SHA256 failed in OpenSSL");
  return out;
}

std::vector<uint8_t> labelled(const char* label) { return std::vector<uint8_t>(label, label + std::strlen(label)); }

Proof clientProof(const std::string& secret, const PendingClient& c) {
  std::vector<uint8_t> m = labelled("fulmen-store-client-v1");
  append(m, c.serverNonce);
  putU32(m, c.identity.rank);
  putU32(m, c.identity.worldSize);
  append(m, c.identity.session);
  append(m, c.clientNonce);
  return hmac(secret, m);
}

Proof serverProof(const std::string& secret, const PendingClient& c) {
  std::vector<uint8_t> m = labelled("fulmen-store-server-v1");
  append(m, c.serverNonce);
  append(m, c.clientNonce);
  putU32(m, c.identity.rank);
  putU32(m, c.identity.worldSize);
  append(m, c.identity.session);
  return hmac(secret, m);
}

bool sameProof(const Proof& a, const uint8_t* b) { return CRYPTO_memcmp(a.data(), b, kProofBytes) == 0; }

}  // namespace

void requireCrypto() {
  static std::once_flag checked;
  static std::string missing;
  std::call_once(checked, [] {
    // Where the addon's own lookups go: the process's global scope (Node's executable, or the libcrypto a
    // distribution's Node links), then the addon's own dependencies.
    Dl_info self{};
    void* own = nullptr;
    if (::dladdr(reinterpret_cast<void*>(&requireCrypto), &self) != 0 && self.dli_fname != nullptr)
      own = ::dlopen(self.dli_fname, RTLD_LAZY | RTLD_NOLOAD);
    for (const char* name : {"HMAC", "EVP_sha256", "RAND_bytes", "CRYPTO_memcmp", "OPENSSL_thread_stop"}) {
      if (::dlsym(RTLD_DEFAULT, name) != nullptr) continue;
      if (own != nullptr && ::dlsym(own, name) != nullptr) continue;
      missing += (missing.empty() ? "" : ", ") + std::string(name);
    }
    if (own != nullptr) ::dlclose(own);
  });
  if (!missing.empty())
    throw std::runtime_error("this Node.js does not provide OpenSSL's " + missing +
                             ", which the rendezvous store's handshake uses (Node's own OpenSSL, which official "
                             "Node.js builds and distributions' nodejs packages carry): run a Node.js built with "
                             "OpenSSL, or meet through a shared directory instead (fileStorePath)");
}

void randomBytes(uint8_t* out, size_t size) {
  if (RAND_bytes(out, static_cast<int>(size)) != 1)
    throw std::runtime_error("OpenSSL could not generate random bytes for the rendezvous store's handshake");
}

void releaseThreadCrypto() { OPENSSL_thread_stop(); }

bool readClientProof(int fd, const std::string& secret, PendingClient* client,
                     std::chrono::steady_clock::time_point deadline) {
  randomBytes(client->serverNonce.data(), kNonceBytes);
  uint8_t greeting[kGreetingBytes];
  std::memcpy(greeting, kMagic, sizeof(kMagic));
  greeting[sizeof(kMagic)] = secret.empty() ? 0 : kSecretRequired;
  std::memcpy(greeting + sizeof(kMagic) + 1, client->serverNonce.data(), kNonceBytes);
  writeAll(fd, greeting, sizeof(greeting));

  // A fixed-size message: a client cannot make the store read or allocate more before it has proven itself.
  // The magic comes first and alone, so a client speaking anything else is dropped at once. The whole message
  // is due by one deadline, so a stranger cannot hold its handshake slot by trickling bytes.
  uint8_t m[kClientBytes];
  if (!readAllBefore(fd, m, sizeof(kMagic), deadline)) throw ProtocolViolation("closed before proving membership");
  if (std::memcmp(m, kMagic, sizeof(kMagic)) != 0) throw ProtocolViolation("not a Fulmen store client");
  if (!readAllBefore(fd, m + sizeof(kMagic), sizeof(m) - sizeof(kMagic), deadline))
    throw ProtocolViolation("closed before proving membership");
  const uint8_t* p = m + sizeof(kMagic);
  client->identity.rank = getU32(p);
  client->identity.worldSize = getU32(p + 4);
  std::memcpy(client->identity.session.data(), p + 8, kSessionBytes);
  std::memcpy(client->clientNonce.data(), p + 8 + kSessionBytes, kNonceBytes);
  if (!sameProof(clientProof(secret, *client), p + 8 + kSessionBytes + kNonceBytes)) {
    uint8_t reply = static_cast<uint8_t>(HandshakeReply::WrongProof);
    writeAll(fd, &reply, 1);
    return false;
  }
  return true;
}

void acceptClient(int fd, const std::string& secret, const PendingClient& client) {
  uint8_t reply[1 + kProofBytes];
  reply[0] = static_cast<uint8_t>(HandshakeReply::Accepted);
  Proof proof = serverProof(secret, client);
  std::memcpy(reply + 1, proof.data(), kProofBytes);
  writeAll(fd, reply, sizeof(reply));
}

void refuseClient(int fd, HandshakeReply reply, const std::string& message) {
  uint8_t code = static_cast<uint8_t>(reply);
  writeAll(fd, &code, 1);
  if (reply == HandshakeReply::WorldSizeMismatch || reply == HandshakeReply::RankTaken)
    writeBytes(fd, message.substr(0, kMaxMessageBytes));
}

void proveMembership(int fd, const std::string& secret, const Identity& identity, const std::string& where) {
  const std::string otherPort =
      " (another program or job uses this port? Set MASTER_PORT to a free port)";
  uint8_t greeting[kGreetingBytes];
  try {
    if (!readAll(fd, greeting, sizeof(greeting)))
      throw HandshakeRetry("the rendezvous store at " + where + " closed the connection before greeting");
  } catch (const HandshakeRetry&) {
    throw;
  } catch (const std::exception& e) {
    throw std::runtime_error("the process listening on " + where +
                             " did not greet like a Fulmen rendezvous store (" + e.what() + ")" + otherPort);
  }
  if (std::memcmp(greeting, kMagic, sizeof(kMagic)) != 0)
    throw std::runtime_error("the process listening on " + where + " is not a Fulmen rendezvous store" + otherPort);
  const bool storeWantsSecret = (greeting[sizeof(kMagic)] & kSecretRequired) != 0;
  if (storeWantsSecret && secret.empty())
    throw std::runtime_error("the rendezvous store at " + where +
                             " requires a secret and this rank has none: set FULMEN_STORE_SECRET to the same value "
                             "on every rank");
  if (!storeWantsSecret && !secret.empty())
    throw std::runtime_error("the rendezvous store at " + where +
                             " was started without a secret, but this rank has FULMEN_STORE_SECRET set: set the "
                             "same FULMEN_STORE_SECRET on every rank, or another job uses this port (set "
                             "MASTER_PORT to a free port)");

  PendingClient c;
  c.identity = identity;
  std::memcpy(c.serverNonce.data(), greeting + sizeof(kMagic) + 1, kNonceBytes);
  randomBytes(c.clientNonce.data(), kNonceBytes);
  std::vector<uint8_t> m(kMagic, kMagic + sizeof(kMagic));
  putU32(m, identity.rank);
  putU32(m, identity.worldSize);
  append(m, identity.session);
  append(m, c.clientNonce);
  append(m, clientProof(secret, c));
  // The greeting was a Fulmen store's: a connection that breaks from here on was dropped by it (it made room
  // for a newer connection, or this one's time ran out; either way, the client's message may still have been
  // unread, which resets rather than closes the connection), and another attempt may succeed.
  const std::string cutOff = "the rendezvous store at " + where + " dropped the connection during the handshake";
  uint8_t code;
  try {
    writeAll(fd, m.data(), m.size());
    if (!readAll(fd, &code, 1)) throw HandshakeRetry(cutOff);
  } catch (const HandshakeRetry&) {
    throw;
  } catch (const std::exception& e) {
    throw HandshakeRetry(cutOff + " (" + e.what() + ")");
  }
  switch (static_cast<HandshakeReply>(code)) {
    case HandshakeReply::Accepted: {
      uint8_t proof[kProofBytes];
      bool complete = false;
      try {
        complete = readAll(fd, proof, sizeof(proof));
      } catch (const std::exception& e) {
        throw HandshakeRetry(cutOff + " (" + e.what() + ")");
      }
      if (!complete) throw HandshakeRetry(cutOff);
      if (!sameProof(serverProof(secret, c), proof))
        throw std::runtime_error("the process listening on " + where +
                                 " could not prove it knows this job's FULMEN_STORE_SECRET; it is not this job's "
                                 "rendezvous store" +
                                 otherPort);
      return;
    }
    case HandshakeReply::WrongProof:
      throw std::runtime_error("the rendezvous store at " + where +
                               " refused this rank: its FULMEN_STORE_SECRET differs from this rank's (set the same "
                               "value on every rank), or the store belongs to another job (set MASTER_PORT to a "
                               "free port)");
    case HandshakeReply::WorldSizeMismatch:
    case HandshakeReply::RankTaken: {
      std::vector<char> message = readBytes(fd, kMaxMessageBytes);
      throw std::runtime_error(std::string(message.begin(), message.end()));
    }
    case HandshakeReply::Busy:
      throw HandshakeRetry("the rendezvous store at " + where + " has no free connection slot");
  }
  throw std::runtime_error("the rendezvous store at " + where + " answered the handshake with an unknown code" +
                           otherPort);
}

}  // namespace fulmen
