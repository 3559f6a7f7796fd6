import {
  type Collective,
  type CollectiveData,
  type CollectiveOptions,
  FulmenError,
  type ReduceOp,
  type ReduceOptions,
  type ReducibleData,
  type StartedCollective,
} from "@fulmen/core";
import { loadGloo, type NativeGroup, type NativeGroupOptions, type NativeStarted } from "./native-binding";
import { resolveStoreAccess } from "./store-access";

const REDUCE_OPS: readonly ReduceOp[] = ["sum", "mean", "max", "min"];
const DEFAULT_TIMEOUT_MS = 30_000;

type TypedArrayConstructor<T> = new (length: number) => T;

function halfFormatFor(
  data: ReducibleData,
  options: ReduceOptions | undefined,
  operation: string,
): string | undefined {
  if (!(data instanceof Uint16Array)) {
    if (!(data instanceof Float32Array) && !(data instanceof Int32Array))
      throw new FulmenError(
        `${operation}: reduce Float32Array, Int32Array or Uint16Array (16-bit float) data.`,
      );
    return undefined;
  }
  if (options?.halfFormat !== "float16" && options?.halfFormat !== "bfloat16")
    throw new FulmenError(
      `${operation}: a Uint16Array holds 16-bit floats; say which with { halfFormat: "float16" | "bfloat16" }.`,
    );
  return options.halfFormat;
}

function checkOp(op: ReduceOp, operation: string): void {
  if (!REDUCE_OPS.includes(op))
    throw new FulmenError(`${operation}: unknown reduce op '${op}'; use "sum", "mean", "max" or "min".`);
}

function rethrow(error: unknown): never {
  if (error instanceof FulmenError) throw error;
  throw new FulmenError((error as Error).message);
}

/** Options of {@link GlooCollective.connect}: core's collective options, and the store's secret. */
export interface GlooCollectiveOptions extends CollectiveOptions {
  /**
   * The job's rendezvous-store secret, the same on every rank (default: `FULMEN_STORE_SECRET`). Every connection to
   * rank 0's store proves it knows it (HMAC-SHA256 over fresh nonces; the secret never crosses the wire). Required
   * when `mainAddress` is not a loopback address.
   */
  storeSecret?: string;
}

/**
 * Collectives across processes on Gloo (the library behind PyTorch's `gloo` backend), over TCP. Rank 0 hosts the
 * rendezvous store on native threads; a dead or stopped peer makes every other rank throw within the timeout,
 * naming that rank and the operation. After such a failure the group is unusable: end the run.
 */
export class GlooCollective implements Collective {
  private closed = false;
  private inFlight = 0;
  /** How many times this group was split: each split's subgroups meet under their own names. */
  private splits = 0;
  /** Subgroups split off this group, closed with it. */
  private readonly children: GlooCollective[] = [];

  private constructor(
    private readonly group: NativeGroup,
    /** This process's rank in the group, 0 to `worldSize - 1` (in a subgroup: its rank there). */
    readonly rank: number,
    /** How many processes the group has (in a subgroup: its members). */
    readonly worldSize: number,
  ) {}

  /** Meets the other processes and connects to each of them (waits up to the timeout for all to arrive). */
  static async connect(options: GlooCollectiveOptions): Promise<GlooCollective> {
    const { rank, worldSize } = options;
    if (!Number.isInteger(worldSize) || worldSize < 1)
      throw new FulmenError(`Gloo: worldSize must be a positive integer, got ${worldSize}.`);
    if (!Number.isInteger(rank) || rank < 0 || rank >= worldSize)
      throw new FulmenError(`Gloo: rank ${rank} is outside a world of ${worldSize} processes.`);
    const useTcp = options.fileStorePath === undefined;
    const access = useTcp
      ? await resolveStoreAccess(rank, options.mainAddress, options.mainPort, options.storeSecret)
      : null;
    const native: NativeGroupOptions = {
      rank,
      worldSize,
      store: useTcp ? "tcp" : "file",
      host: options.mainAddress,
      port: options.mainPort,
      ...(access === null ? {} : { bindHost: access.bindHost, secret: access.secret }),
      timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
      ...(options.fileStorePath === undefined ? {} : { path: options.fileStorePath }),
      ...(options.hostname === undefined ? {} : { hostname: options.hostname }),
    };
    const group = new (loadGloo().Group)(native);
    try {
      await group.connectAsync();
    } catch (error) {
      group.close();
      throw new FulmenError(
        `Gloo could not connect rank ${rank} of ${worldSize} via ${options.mainAddress}:${options.mainPort}: ${(error as Error).message}`,
      );
    }
    return new GlooCollective(group, rank, worldSize);
  }

  /** The port rank 0's store listens on (useful when it was asked for port 0). */
  get storePort(): number {
    return this.group.storePort;
  }

  /** The numeric address rank 0's store listens on (the main address, resolved); empty on other ranks. */
  get storeAddress(): string {
    return this.group.storeAddress;
  }

  allReduce(data: ReducibleData, op: ReduceOp, options?: ReduceOptions): void {
    const half = this.prepareReduce(data, op, options, "allReduce");
    this.sync(() => this.group.allReduce(data, op, half, false));
  }

  /**
   * {@link GlooCollective.allReduce} on a libuv worker thread, keeping the event loop free; resolves when
   * `data` holds the result. Leave `data` untouched until then.
   */
  allReduceAsync(data: ReducibleData, op: ReduceOp, options?: ReduceOptions): Promise<void> {
    const half = this.prepareReduce(data, op, options, "allReduceAsync");
    return this.async(this.group.allReduce(data, op, half, true) as Promise<void>);
  }

  allGather<T extends CollectiveData>(data: T, into?: T): T {
    const out = this.gatherOutput(data, into);
    this.sync(() => this.group.allGather(data, out, false));
    return out;
  }

  /**
   * {@link GlooCollective.allGather} on a libuv worker thread; resolves to a new array of `worldSize` times
   * `data`'s length, every rank's `data` in rank order.
   */
  async allGatherAsync<T extends CollectiveData>(data: T): Promise<T> {
    const out = this.gatherOutput(data, undefined);
    await this.async(this.group.allGather(data, out, true) as Promise<void>);
    return out;
  }

  allGatherStart<T extends CollectiveData>(data: T, into?: T): StartedCollective<T> {
    const out = this.gatherOutput(data, into);
    return this.started(this.group.allGather(data, out, "start") as NativeStarted, out);
  }

  reduceScatterStart<T extends ReducibleData>(
    data: T,
    op: ReduceOp,
    options?: ReduceOptions,
    into?: T,
  ): StartedCollective<T> {
    const half = this.prepareReduce(data, op, options, "reduceScatterStart");
    const out = this.scatterOutput(data, into);
    return this.started(this.group.reduceScatter(data, out, op, half, "start") as NativeStarted, out);
  }

  reduceScatter<T extends ReducibleData>(data: T, op: ReduceOp, options?: ReduceOptions, into?: T): T {
    const half = this.prepareReduce(data, op, options, "reduceScatter");
    const out = this.scatterOutput(data, into);
    this.sync(() => this.group.reduceScatter(data, out, op, half, false));
    return out;
  }

  /**
   * {@link GlooCollective.reduceScatter} on a libuv worker thread; resolves to a new array holding this
   * rank's chunk of the reduction (`data.length / worldSize` elements; the length must divide evenly).
   */
  async reduceScatterAsync<T extends ReducibleData>(
    data: T,
    op: ReduceOp,
    options?: ReduceOptions,
  ): Promise<T> {
    const half = this.prepareReduce(data, op, options, "reduceScatterAsync");
    const out = this.scatterOutput(data, undefined);
    await this.async(this.group.reduceScatter(data, out, op, half, true) as Promise<void>);
    return out;
  }

  broadcast(data: CollectiveData, src: number): void {
    this.checkRoot(src);
    this.sync(() => this.group.broadcast(data, src, false));
  }

  /** {@link GlooCollective.broadcast} on a libuv worker thread; resolves when `data` holds `src`'s values. */
  broadcastAsync(data: CollectiveData, src: number): Promise<void> {
    this.checkRoot(src);
    return this.async(this.group.broadcast(data, src, true) as Promise<void>);
  }

  barrier(): void {
    this.checkOpen("barrier");
    this.sync(() => this.group.barrier(false));
  }

  /** {@link GlooCollective.barrier} on a libuv worker thread; resolves once every rank has reached it. */
  barrierAsync(): Promise<void> {
    this.checkOpen("barrierAsync");
    return this.async(this.group.barrier(true) as Promise<void>);
  }

  /**
   * Splits this group into subgroups (MPI's `Comm_split`; what PyTorch's `new_subgroups_by_enumeration` makes):
   * every rank calls it, in the same order, with its `color`; the ranks with the same color form one subgroup,
   * ranked in their order here. Resolves to this rank's subgroup, connected (its own connections, meeting
   * through this group's store). Closing this group closes its subgroups.
   */
  async split(color: number): Promise<GlooCollective> {
    this.checkOpen("split");
    if (!Number.isInteger(color) || color < 0)
      throw new FulmenError(`split: the color must be a non-negative integer, got ${color}.`);
    const colors = this.allGather(Int32Array.of(color));
    const members = [...colors.keys()].filter((r) => colors[r] === color);
    const name = `split${this.splits++}/color${color}`;
    let group: NativeGroup;
    try {
      group = new (loadGloo().Group)({ parent: this.group, members, name });
    } catch (error) {
      rethrow(error);
    }
    try {
      await group.connectAsync();
    } catch (error) {
      group.close();
      throw new FulmenError(
        `Gloo could not connect rank ${this.rank}'s subgroup of ranks [${members.join(", ")}]: ${(error as Error).message}`,
      );
    }
    const child = new GlooCollective(group, members.indexOf(this.rank), members.length);
    this.children.push(child);
    return child;
  }

  close(): void {
    if (this.closed) return;
    if (this.inFlight > 0)
      throw new FulmenError(
        `Gloo: close() with ${this.inFlight} asynchronous operation(s) running; await them first.`,
      );
    for (const child of this.children) child.close();
    this.closed = true;
    this.group.close();
  }

  private prepareReduce(data: ReducibleData, op: ReduceOp, options: ReduceOptions | undefined, name: string) {
    this.checkOpen(name);
    checkOp(op, name);
    const half = halfFormatFor(data, options, name);
    if (op === "mean" && data instanceof Int32Array)
      throw new FulmenError(
        `${name}: "mean" of int32 data is not defined (as in PyTorch's gloo); use "sum".`,
      );
    return half;
  }

  private gatherOutput<T extends CollectiveData>(data: T, into: T | undefined): T {
    this.checkOpen("allGather");
    return outputArray(data, data.length * this.worldSize, into, "allGather");
  }

  private scatterOutput<T extends ReducibleData>(data: T, into: T | undefined): T {
    if (data.length % this.worldSize !== 0)
      throw new FulmenError(
        `reduceScatter: ${data.length} elements do not split evenly over ${this.worldSize} ranks; pad the input to a multiple of the world size.`,
      );
    return outputArray(data, data.length / this.worldSize, into, "reduceScatter");
  }

  private checkRoot(src: number): void {
    this.checkOpen("broadcast");
    if (!Number.isInteger(src) || src < 0 || src >= this.worldSize)
      throw new FulmenError(
        `broadcast: src ${src} does not exist in a world of ${this.worldSize} processes.`,
      );
  }

  private checkOpen(name: string): void {
    if (this.closed) throw new FulmenError(`${name}: this Gloo collective was closed.`);
  }

  private sync(body: () => unknown): void {
    try {
      body();
    } catch (error) {
      rethrow(error);
    }
  }

  /** A started collective's handle: counted in flight (close refuses) until waited for. */
  private started<T>(native: NativeStarted, out: T): StartedCollective<T> {
    this.inFlight++;
    let done = false;
    return {
      wait: () => {
        if (!done) {
          done = true;
          this.inFlight--;
          this.sync(() => native.wait());
        }
        return out;
      },
    };
  }

  private async async(promise: Promise<void>): Promise<void> {
    this.inFlight++;
    try {
      await promise;
    } catch (error) {
      rethrow(error);
    } finally {
      this.inFlight--;
    }
  }
}

/**
 * The array an operation on `data` writes its `length` elements of result into: the caller's `into` (checked:
 * the native code writes exactly that many of `data`'s type), or a new one.
 */
function outputArray<T extends CollectiveData>(
  data: T,
  length: number,
  into: T | undefined,
  name: string,
): T {
  if (into === undefined) return new (data.constructor as TypedArrayConstructor<T>)(length);
  if (into.constructor !== data.constructor || into.length !== length)
    throw new FulmenError(
      `${name}: the output array (${into.constructor.name}, ${into.length} elements) does not fit the result (${data.constructor.name}, ${length} elements); pass one that does, or none.`,
    );
  return into;
}
