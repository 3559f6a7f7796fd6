import { FulmenError } from "../utils/errors";

/**
 * Throws unless `betas` is a pair of numbers in [0, 1), as `torch.optim`'s Adam family requires (each beta is
 * a decay rate of a running average; 1 would never forget and divide by zero in the bias correction).
 */
export function checkBetas(owner: string, betas: unknown): void {
  const ok =
    Array.isArray(betas) &&
    betas.length === 2 &&
    betas.every((b) => typeof b === "number" && b >= 0 && b < 1);
  if (!ok) {
    throw new FulmenError(
      `${owner}: invalid betas ${JSON.stringify(betas)}; pass two numbers in [0, 1), e.g. [0.9, 0.999].`,
    );
  }
}
