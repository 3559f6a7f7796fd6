/** @fulmen/fabric: Lightning Fabric for TypeScript. */

export { CpuAccelerator } from "./accelerators/cpu-accelerator";
export { type Connection, type ConnectorOptions, connect, type PrecisionInput } from "./connector/connector";
export { type ClipGradientsOptions, Fabric, type FabricOptions } from "./fabric";
export { SingleDeviceStrategy } from "./strategies/single-device-strategy";
