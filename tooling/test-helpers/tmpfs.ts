import { execFileSync } from "node:child_process";
import { mkdtempSync, rmdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** A mounted tmpfs of a fixed size (a real disk that fills up), or why none could be mounted. */
export type TinyDisk = { dir: string; unmount(): void } | { reason: string };

/**
 * Mounts a tmpfs of `sizeKiB` KiB on a fresh folder. Needs Linux and the right to mount (root in CI); elsewhere
 * returns the reason, for the test to skip with.
 */
export function mountTinyDisk(sizeKiB: number): TinyDisk {
  if (process.platform !== "linux") return { reason: `tmpfs needs Linux, this is ${process.platform}` };
  if (process.getuid?.() !== 0) return { reason: "mounting a tmpfs needs root" };
  const dir = mkdtempSync(join(tmpdir(), "fulmen-tiny-disk-"));
  try {
    execFileSync("mount", ["-t", "tmpfs", "-o", `size=${sizeKiB}k,mode=0700`, "tmpfs", dir], {
      stdio: "pipe",
    });
  } catch (e) {
    rmdirSync(dir);
    const stderr = (e as { stderr?: Buffer }).stderr?.toString().trim();
    return { reason: `cannot mount a tmpfs here: ${stderr || (e as Error).message}` };
  }
  return {
    dir,
    unmount: () => {
      execFileSync("umount", [dir], { stdio: "pipe" });
      rmdirSync(dir);
    },
  };
}
