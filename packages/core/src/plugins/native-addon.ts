import { existsSync } from "node:fs";
import { join } from "node:path";

/**
 * The folder of prebuilt addons that fits this machine, as `fulmen-build-native --prebuild` names it:
 * `<platform>-<arch>`, with `-glibc` on Linux with glibc (its binaries do not load on musl).
 */
export function prebuildPlatform(): string {
  const report = process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined;
  const glibc = process.platform === "linux" && report?.header?.glibcVersionRuntime !== undefined;
  return `${process.platform}-${process.arch}${glibc ? "-glibc" : ""}`;
}

/**
 * Where a plugin package's native addon `name` is (for engine and collective packages): its source build
 * (`build/Release/<name>.node`) when there is one, else the prebuilt addon it carries for this machine
 * (`prebuilds/<platform>/<name>.node`), else null.
 */
export function locateNativeAddon(packageRoot: string, name: string): string | null {
  const built = join(packageRoot, "build", "Release", `${name}.node`);
  if (existsSync(built)) return built;
  const prebuilt = join(packageRoot, "prebuilds", prebuildPlatform(), `${name}.node`);
  return existsSync(prebuilt) ? prebuilt : null;
}
