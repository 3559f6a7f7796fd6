// Gloo's raw all-reduce throughput, for comparison with the addon (`pnpm bench`): one rank per process, a
// FileStore rendezvous, the same ring algorithm and float sum the addon uses.
// usage: gloo-allreduce-driver RANK SIZE STORE_DIR BYTES ITERATIONS   (rank 0 prints the median ms per op)
#include <gloo/allreduce.h>
#include <gloo/barrier.h>
#include <gloo/math.h>
#include <gloo/rendezvous/context.h>
#include <gloo/rendezvous/file_store.h>
#include <gloo/transport/tcp/device.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <vector>

int main(int argc, char** argv) {
  if (argc != 6) {
    std::fprintf(stderr, "usage: %s RANK SIZE STORE_DIR BYTES ITERATIONS\n", argv[0]);
    return 2;
  }
  const int rank = std::atoi(argv[1]);
  const int size = std::atoi(argv[2]);
  const size_t count = std::strtoull(argv[4], nullptr, 10) / sizeof(float);
  const int iterations = std::atoi(argv[5]);
  gloo::rendezvous::FileStore store(argv[3]);
  gloo::transport::tcp::attr attr;
  attr.hostname = "127.0.0.1";
  auto device = gloo::transport::tcp::CreateDevice(attr);
  auto context = std::make_shared<gloo::rendezvous::Context>(rank, size);
  context->connectFullMesh(store, device);
  std::vector<float> data(count, 1.0f);
  uint32_t tag = 1;
  using Reduce = void (*)(void*, const void*, const void*, size_t);
  auto allreduce = [&] {
    gloo::AllreduceOptions opts(context);
    opts.setTag(tag++);
    opts.setAlgorithm(gloo::AllreduceOptions::Algorithm::RING);
    opts.setOutput<float>(data.data(), count);
    opts.setReduceFunction(static_cast<Reduce>(&gloo::sum<float>));
    gloo::allreduce(opts);
  };
  for (int i = 0; i < 2; i++) allreduce();
  std::vector<double> ms;
  for (int i = 0; i < iterations; i++) {
    gloo::BarrierOptions barrier(context);
    barrier.setTag(tag++);
    gloo::barrier(barrier);
    auto start = std::chrono::steady_clock::now();
    allreduce();
    ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count());
  }
  std::sort(ms.begin(), ms.end());
  if (rank == 0) std::printf("%.4f\n", ms[ms.size() / 2]);
  return 0;
}
