import { CUDA_BACKEND, CudaAccelerator } from "@fulmen/accelerator-cuda";
import { HOST_BACKEND, HostAccelerator } from "@fulmen/accelerator-host";
import {
  isCudaEmulationAvailable,
  registerCudaEmulationBackend,
  registerHostMemoryDeviceBackend,
} from "../src";

/**
 * The backends that run the engine's kernels, as [label, tfjs backend name]: the host engine, the device backend
 * over host memory, the GPU engine on the host CUDA emulator (where built), and on a GPU (where one runs it).
 */
export function engineTargets(): Array<[string, string]> {
  const targets: Array<[string, string]> = [
    ["the host engine", HOST_BACKEND],
    ["the device backend over host memory", registerHostMemoryDeviceBackend()],
  ];
  if (isCudaEmulationAvailable())
    targets.push(["the GPU engine on the CUDA emulator", registerCudaEmulationBackend()]);
  if (new CudaAccelerator().isAvailable()) targets.push(["the GPU engine", CUDA_BACKEND]);
  return targets;
}

/** Sets up what `backendName` needs (the host engine always; the GPU engine's accelerator for a GPU). */
export async function setUpTarget(backendName: string): Promise<void> {
  await new HostAccelerator().setup();
  if (backendName === CUDA_BACKEND) await new CudaAccelerator().setup();
}
