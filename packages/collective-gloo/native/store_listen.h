// Where rank 0's rendezvous store listens: the one address the job names (MASTER_ADDR, or an explicit bind
// address), never every interface by default, so a single-machine job on loopback is unreachable from the network.
#pragma once

#include <string>

namespace fulmen {

struct Listener {
  int fd = -1;
  /** The numeric address bound, e.g. "127.0.0.1". */
  std::string address;
  int port = 0;
  /** Whether only this machine can reach it (127.0.0.0/8 or ::1). */
  bool loopback = false;
};

/**
 * Listens on `host:port` (port 0 picks a free one). `host` may be a name; the first of its addresses that belongs
 * to this machine is bound ("0.0.0.0" or "::" bind every interface, as asked). Throws with the address and the
 * fix when the port is taken or the address is not this machine's.
 */
Listener listenOn(const std::string& host, int port);

}  // namespace fulmen
