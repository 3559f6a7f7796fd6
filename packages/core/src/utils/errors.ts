/** An error raised by Fulmen for invalid input; its message names the problem and how to fix it. */
export class FulmenError extends Error {
  override name = "FulmenError";
}
