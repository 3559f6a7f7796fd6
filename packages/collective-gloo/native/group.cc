#include "group.h"

#include <gloo/allgather.h>
#include <gloo/allreduce.h>
#include <gloo/barrier.h>
#include <gloo/broadcast.h>
#include <gloo/math.h>
#include <gloo/rendezvous/context.h>
#include <gloo/rendezvous/file_store.h>
#include <gloo/rendezvous/prefix_store.h>
#include <gloo/transport/tcp/device.h>
#include <gloo/types.h>

#include <algorithm>
#include <cstring>
#include <sstream>
#include <stdexcept>
#include <thread>
#include <vector>

namespace fulmen {

namespace {

using ReduceFunc = std::function<void(void*, const void*, const void*, size_t)>;
using RawReduce = void (*)(void*, const void*, const void*, size_t);

// Private slot prefix for the ring reduce-scatter; Gloo's own collectives use 0x01-0x08.
constexpr uint8_t kReduceScatterSlotPrefix = 0x7a;
constexpr auto kHeartbeatInterval = std::chrono::milliseconds(200);
constexpr uint32_t kHungAfterMs = 1500;
// How long rank 0 keeps the store up after its own failure for the others to diagnose theirs.
constexpr uint32_t kSurvivorGraceMs = 3000;

size_t elementSize(DType type) {
  switch (type) {
    case DType::Float32:
    case DType::Int32:
      return 4;
    case DType::Float16:
    case DType::Bfloat16:
      return 2;
    case DType::Uint8:
      return 1;
  }
  return 1;
}

ReduceFunc reduceFunction(DType type, ReduceOp op) {
  bool isMax = op == ReduceOp::Max;
  bool isMin = op == ReduceOp::Min;
  switch (type) {
    case DType::Float32:
      return isMax   ? static_cast<RawReduce>(&gloo::max<float>)
             : isMin ? static_cast<RawReduce>(&gloo::min<float>)
                     : static_cast<RawReduce>(&gloo::sum<float>);
    case DType::Int32:
      return isMax   ? static_cast<RawReduce>(&gloo::max<int32_t>)
             : isMin ? static_cast<RawReduce>(&gloo::min<int32_t>)
                     : static_cast<RawReduce>(&gloo::sum<int32_t>);
    case DType::Float16:
      return isMax   ? ReduceFunc(&reduceHalf<float16ToFloat, floatToFloat16, ReduceKind::Max>)
             : isMin ? ReduceFunc(&reduceHalf<float16ToFloat, floatToFloat16, ReduceKind::Min>)
                     : ReduceFunc(&reduceHalf<float16ToFloat, floatToFloat16, ReduceKind::Sum>);
    case DType::Bfloat16:
      return isMax   ? ReduceFunc(&reduceHalf<bfloat16ToFloat, floatToBfloat16, ReduceKind::Max>)
             : isMin ? ReduceFunc(&reduceHalf<bfloat16ToFloat, floatToBfloat16, ReduceKind::Min>)
                     : ReduceFunc(&reduceHalf<bfloat16ToFloat, floatToBfloat16, ReduceKind::Sum>);
    case DType::Uint8:
      break;
  }
  throw std::invalid_argument("bytes cannot be reduced; send float32, int32 or 16-bit float data");
}

void divideInPlace(void* data, size_t count, DType type, int divisor) {
  float d = static_cast<float>(divisor);
  if (type == DType::Float32) {
    auto* p = static_cast<float*>(data);
    for (size_t i = 0; i < count; i++) p[i] /= d;
  } else if (type == DType::Float16) {
    auto* p = static_cast<uint16_t*>(data);
    for (size_t i = 0; i < count; i++) p[i] = floatToFloat16(float16ToFloat(p[i]) / d);
  } else if (type == DType::Bfloat16) {
    auto* p = static_cast<uint16_t*>(data);
    for (size_t i = 0; i < count; i++) p[i] = floatToBfloat16(bfloat16ToFloat(p[i]) / d);
  } else {
    throw std::invalid_argument("mean is not defined for int32 data (as in PyTorch's gloo); use sum and divide");
  }
}

}  // namespace

Group::Group(GroupOptions options) : options_(std::move(options)) {
  if (options_.worldSize < 1 || options_.rank < 0 || options_.rank >= options_.worldSize)
    throw std::invalid_argument("rank " + std::to_string(options_.rank) + " is outside a world of " +
                                std::to_string(options_.worldSize));
}

Group::Group(std::shared_ptr<Group> parent, std::vector<int> members, const std::string& name)
    : options_(parent->options_), parent_(std::move(parent)), members_(std::move(members)) {
  if (!parent_->context_) throw std::invalid_argument("a subgroup needs a connected parent group");
  if (name.empty()) throw std::invalid_argument("a subgroup needs a name");
  std::vector<int> sorted = members_;
  std::sort(sorted.begin(), sorted.end());
  if (sorted.empty() || std::adjacent_find(sorted.begin(), sorted.end()) != sorted.end() || sorted.front() < 0 ||
      sorted.back() >= parent_->worldSize())
    throw std::invalid_argument("subgroup members must be distinct ranks of the parent group (0 to " +
                                std::to_string(parent_->worldSize() - 1) + ")");
  auto mine = std::find(members_.begin(), members_.end(), parent_->rank());
  if (mine == members_.end())
    throw std::invalid_argument("rank " + std::to_string(parent_->rank()) + " is not a member of subgroup " + name);
  options_.rank = static_cast<int>(mine - members_.begin());
  options_.worldSize = static_cast<int>(members_.size());
  options_.prefix = name;
  attr_ = parent_->attr_;
}

Group::~Group() { close(); }

void Group::connect() {
  if (parent_) {
    // A subgroup meets through its parent's store, under its own prefix, on a transport device of its own.
    tcpStore_ = parent_->tcpStore_;
    auto parentStore = parent_->store_;
    auto prefixed = std::make_shared<gloo::rendezvous::PrefixStore>(options_.prefix, *parentStore);
    store_ = std::shared_ptr<gloo::rendezvous::Store>(prefixed.get(), [parentStore, prefixed](auto*) {});
    auto context = std::make_shared<gloo::rendezvous::Context>(options_.rank, options_.worldSize);
    context->setTimeout(options_.timeout);
    auto device = gloo::transport::tcp::CreateDevice(attr_);
    try {
      context->connectFullMesh(*store_, device);
    } catch (const std::exception& e) {
      throw std::runtime_error("subgroup rendezvous failed on " + describeRank() + ": " + e.what());
    }
    context_ = context;
    return;
  }
  if (options_.storeKind == "tcp") {
    if (options_.rank == 0) {
      StoreServerOptions server;
      server.host = options_.bindHost.empty() ? options_.host : options_.bindHost;
      server.port = options_.port;
      server.secret = options_.secret;
      server.worldSize = options_.worldSize;
      server_ = std::make_unique<TcpStoreServer>(server);
      storePort_ = server_->port();
    } else {
      storePort_ = options_.port;
    }
    tcpStore_ = std::make_shared<TcpStoreClient>(options_.host, storePort_, options_.timeout, options_.secret,
                                                 options_.rank, options_.worldSize);
    tcpStore_->startHeartbeat(kHeartbeatInterval);
    store_ = std::make_shared<gloo::rendezvous::PrefixStore>(options_.prefix, *tcpStore_);
  } else if (options_.storeKind == "file") {
    auto fileStore = std::make_shared<gloo::rendezvous::FileStore>(options_.path);
    auto prefixed = std::make_shared<gloo::rendezvous::PrefixStore>(options_.prefix, *fileStore);
    // PrefixStore keeps a reference to its backing store: hold both for the group's lifetime.
    store_ = std::shared_ptr<gloo::rendezvous::Store>(prefixed.get(), [fileStore, prefixed](auto*) {});
    // The TCP store compares world sizes in its handshake; a shared directory has no host to do it, so the ranks
    // compare through it before Gloo exchanges addresses sized by the world.
    checkWorldSizeThroughStore();
  } else {
    throw std::invalid_argument("unknown store '" + options_.storeKind + "'; use 'tcp' or 'file'");
  }

  gloo::transport::tcp::attr attr;
  if (!options_.iface.empty()) {
    attr.iface = options_.iface;
  } else if (!options_.hostname.empty()) {
    attr.hostname = options_.hostname;
  } else if (tcpStore_ && !tcpStore_->localAddress().empty()) {
    attr.hostname = tcpStore_->localAddress();
  } else {
    attr.hostname = "127.0.0.1";
  }
  attr_ = attr;
  auto device = gloo::transport::tcp::CreateDevice(attr);
  auto context = std::make_shared<gloo::rendezvous::Context>(options_.rank, options_.worldSize);
  context->setTimeout(options_.timeout);
  try {
    context->connectFullMesh(*store_, device);
  } catch (const std::exception& e) {
    // Ranks that disagree on the world size all learn it from this store: keep it up until they have.
    if (server_ && server_->hasConflict()) server_->awaitConflictHeard(std::chrono::milliseconds(kSurvivorGraceMs));
    throw std::runtime_error(std::string("rendezvous failed on rank ") + std::to_string(options_.rank) + ": " +
                             e.what());
  }
  context_ = context;
}

void Group::checkWorldSizeThroughStore() {
  auto keyOf = [](int rank) { return "fulmen_world_size/" + std::to_string(rank); };
  auto mine = std::to_string(options_.worldSize);
  store_->set(keyOf(options_.rank), std::vector<char>(mine.begin(), mine.end()));
  // Rank 0 reads everyone's, the others read rank 0's: a pair that disagrees fails on both of its sides.
  std::vector<int> peers;
  if (options_.rank == 0) {
    for (int r = 1; r < options_.worldSize; r++) peers.push_back(r);
  } else {
    peers.push_back(0);
  }
  for (int peer : peers) {
    store_->wait({keyOf(peer)}, options_.timeout);
    std::vector<char> theirs = store_->get(keyOf(peer));
    std::string value(theirs.begin(), theirs.end());
    if (value != mine) {
      int other = options_.rank == 0 ? peer : 0;
      int low = std::min(options_.rank, other), high = std::max(options_.rank, other);
      std::string lowSize = low == options_.rank ? mine : value, highSize = high == options_.rank ? mine : value;
      throw std::runtime_error("ranks disagree on the world size: rank " + std::to_string(high) + " has WORLD_SIZE=" +
                               highSize + ", but rank " + std::to_string(low) + " has WORLD_SIZE=" + lowSize +
                               "; start every rank with the same WORLD_SIZE");
    }
  }
}

void Group::close() {
  context_.reset();
  store_.reset();
  tcpStore_.reset();
  server_.reset();
  parent_.reset();
}

std::string Group::describeRank() const {
  std::string rank = "rank " + std::to_string(globalRank());
  if (!parent_) return rank + " of " + std::to_string(options_.worldSize);
  return rank + " (rank " + std::to_string(options_.rank) + " of a subgroup of " + std::to_string(options_.worldSize) +
         ")";
}

void Group::allReduce(void* data, size_t count, DType type, ReduceOp op, uint32_t tag) {
  if (op == ReduceOp::Mean && type == DType::Int32) divideInPlace(data, 0, type, 1);  // throws: no int mean
  if (count == 0 || options_.worldSize == 1) return;
  gloo::AllreduceOptions opts(context_);
  opts.setTimeout(options_.timeout);
  opts.setTag(tag);
  opts.setAlgorithm(gloo::AllreduceOptions::Algorithm::RING);
  switch (type) {
    case DType::Float32:
      opts.setOutput<float>(static_cast<float*>(data), count);
      break;
    case DType::Int32:
      opts.setOutput<int32_t>(static_cast<int32_t*>(data), count);
      break;
    default:
      opts.setOutput<uint16_t>(static_cast<uint16_t*>(data), count);
      break;
  }
  opts.setReduceFunction(reduceFunction(type, op));
  gloo::allreduce(opts);
  if (op == ReduceOp::Mean) divideInPlace(data, count, type, options_.worldSize);
}

void Group::allGather(const void* in, void* out, size_t bytesPerRank, uint32_t tag) {
  if (options_.worldSize == 1 || bytesPerRank == 0) {
    if (bytesPerRank > 0) std::memcpy(out, in, bytesPerRank);
    return;
  }
  gloo::AllgatherOptions opts(context_);
  opts.setTimeout(options_.timeout);
  opts.setTag(tag);
  opts.setInput<char>(const_cast<char*>(static_cast<const char*>(in)), bytesPerRank);
  opts.setOutput<char>(static_cast<char*>(out), bytesPerRank * options_.worldSize);
  gloo::allgather(opts);
}

void Group::reduceScatter(const void* in, void* out, size_t countPerRank, DType type, ReduceOp op, uint32_t tag) {
  const int world = options_.worldSize;
  const int rank = options_.rank;
  const size_t chunkBytes = countPerRank * elementSize(type);
  auto reduce = reduceFunction(type, op);
  if (world == 1 || countPerRank == 0) {
    if (chunkBytes > 0) std::memcpy(out, in, chunkBytes);
    if (op == ReduceOp::Mean) divideInPlace(out, countPerRank, type, 1);
    return;
  }
  // A ring: at step s each rank passes one partially reduced chunk to its right neighbour and folds the chunk
  // arriving from its left into its own copy; after world-1 steps, chunk `rank` holds every rank's share.
  std::vector<char> work(static_cast<const char*>(in), static_cast<const char*>(in) + chunkBytes * world);
  std::vector<char> incoming(chunkBytes);
  auto workBuffer = context_->createUnboundBuffer(work.data(), work.size());
  auto incomingBuffer = context_->createUnboundBuffer(incoming.data(), incoming.size());
  const int right = (rank + 1) % world;
  const int left = (rank - 1 + world) % world;
  auto slot = gloo::Slot::build(kReduceScatterSlotPrefix, tag);
  for (int step = 0; step < world - 1; step++) {
    const int sendIndex = ((rank - step - 1) % world + world) % world;
    const int recvIndex = ((rank - step - 2) % world + world) % world;
    const uint64_t stepSlot = slot + static_cast<uint8_t>(step);
    workBuffer->send(right, stepSlot, sendIndex * chunkBytes, chunkBytes);
    incomingBuffer->recv(left, stepSlot, 0, chunkBytes);
    if (!incomingBuffer->waitRecv(options_.timeout))
      throw std::runtime_error("timed out receiving from rank " + std::to_string(left));
    char* target = work.data() + recvIndex * chunkBytes;
    reduce(target, target, incoming.data(), countPerRank);
    if (!workBuffer->waitSend(options_.timeout))
      throw std::runtime_error("timed out sending to rank " + std::to_string(right));
  }
  std::memcpy(out, work.data() + rank * chunkBytes, chunkBytes);
  if (op == ReduceOp::Mean) divideInPlace(out, countPerRank, type, world);
}

void Group::broadcast(void* data, size_t bytes, int root, uint32_t tag) {
  if (root < 0 || root >= options_.worldSize)
    throw std::invalid_argument("broadcast root " + std::to_string(root) + " is outside a world of " +
                                std::to_string(options_.worldSize));
  if (options_.worldSize == 1 || bytes == 0) return;
  gloo::BroadcastOptions opts(context_);
  opts.setTimeout(options_.timeout);
  opts.setTag(tag);
  opts.setRoot(root);
  opts.setOutput<char>(static_cast<char*>(data), bytes);
  gloo::broadcast(opts);
}

void Group::barrier(uint32_t tag) {
  if (options_.worldSize == 1) return;
  gloo::BarrierOptions opts(context_);
  opts.setTimeout(options_.timeout);
  opts.setTag(tag);
  gloo::barrier(opts);
}

bool Group::isMember(int global) const {
  for (int r = 0; r < options_.worldSize; r++)
    if (globalRank(r) == global) return true;
  return false;
}

std::string Group::diagnosePeers() {
  if (!tcpStore_) return "the file store keeps no liveness record; check the other ranks' output";
  // The store notices a dead peer's closed connection a moment after Gloo does: ask a few times.
  for (int attempt = 0; attempt < 10; attempt++) {
    std::vector<RankLiveness> report;
    bool storeGone = false;
    try {
      report = tcpStore_->liveness(std::chrono::milliseconds(1500));
    } catch (const std::exception&) {
      storeGone = true;
      report = tcpStore_->lastLiveness();
    }
    std::ostringstream culprits;
    int found = 0;
    for (const auto& r : report) {
      if (r.rank == globalRank() || r.reportedFailure || !isMember(r.rank)) continue;
      if (r.connectionClosed) {
        culprits << (found++ ? "; " : "") << "rank " << r.rank << " is gone (its process ended or lost its network)";
      } else if (r.msSinceHeartbeat > kHungAfterMs) {
        culprits << (found++ ? "; " : "") << "rank " << r.rank << " has not answered for " << r.msSinceHeartbeat
                 << " ms (stopped or hung)";
      }
    }
    if (found > 0) return culprits.str();
    if (storeGone)
      return hostsStore() ? "the rendezvous store does not answer"
                                : "rank 0 is gone or hung: the rendezvous store it hosts does not answer";
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return "every peer still answers the store; a peer may have left this collective or called a different one";
}

// Rank 0 hosts the store the others diagnose with: once it throws, its process usually ends and takes the store
// along, and a survivor asking a moment later could only blame rank 0. So rank 0 waits (a short while at most)
// until every other rank has reported its own failure (which each does after its diagnosis) or is known to be
// gone or hung.
void Group::awaitSurvivorsDiagnosis() {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(kSurvivorGraceMs);
  while (std::chrono::steady_clock::now() < deadline) {
    std::vector<RankLiveness> report;
    try {
      report = tcpStore_->liveness(std::chrono::milliseconds(500));
    } catch (const std::exception&) {
      return;
    }
    bool settled = true;
    for (const auto& r : report)
      if (r.rank != globalRank() && isMember(r.rank) && !r.reportedFailure && !r.connectionClosed &&
          r.msSinceHeartbeat <= kHungAfterMs)
        settled = false;
    if (settled) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

void Group::fail(const char* operation, const std::string& cause) {
  std::lock_guard<std::mutex> lock(failMutex_);
  std::string message = std::string("Gloo ") + operation + " failed on " + describeRank() + ": " + diagnosePeers() +
                        ". Cause: " + cause +
                        ". The process group cannot be used after this; end the run and resume from the last "
                        "checkpoint.";
  // Reported after the diagnosis: the report tells rank 0 this rank no longer needs the store, and tells the
  // others that this rank's closing connection (when its process ends) is not a culprit.
  if (tcpStore_) tcpStore_->reportFailure(std::chrono::milliseconds(500));
  if (hostsStore() && tcpStore_) awaitSurvivorsDiagnosis();
  brokenMessage_ = "This process group failed earlier and cannot be used: " + message;
  broken_ = true;
  throw std::runtime_error(message);
}

}  // namespace fulmen
