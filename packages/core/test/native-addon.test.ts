import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { locateNativeAddon, prebuildPlatform } from "../src/plugin";

const root = mkdtempSync(join(tmpdir(), "fulmen-addon-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe("locateNativeAddon", () => {
  it("prefers a source build, else takes the prebuilt addon for this machine's platform, else says none", () => {
    expect(prebuildPlatform()).toBe(
      `${process.platform}-${process.arch}${process.platform === "linux" ? "-glibc" : ""}`,
    );
    expect(locateNativeAddon(root, "engine")).toBeNull();
    // A prebuilt addon for another platform is not taken.
    mkdirSync(join(root, "prebuilds", "win32-arm64"), { recursive: true });
    writeFileSync(join(root, "prebuilds", "win32-arm64", "engine.node"), "");
    expect(locateNativeAddon(root, "engine")).toBeNull();
    const prebuilt = join(root, "prebuilds", prebuildPlatform(), "engine.node");
    mkdirSync(join(root, "prebuilds", prebuildPlatform()), { recursive: true });
    writeFileSync(prebuilt, "");
    expect(locateNativeAddon(root, "engine")).toBe(prebuilt);
    const built = join(root, "build", "Release", "engine.node");
    mkdirSync(join(root, "build", "Release"), { recursive: true });
    writeFileSync(built, "");
    expect(locateNativeAddon(root, "engine")).toBe(built);
  });
});
