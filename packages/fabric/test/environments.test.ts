import { mkdtempSync, writeFileSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  applyCliOverrides,
  DDPStrategy,
  detectClusterEnvironment,
  expandSlurmHostList,
  Fabric,
  KubeflowEnvironment,
  LSFEnvironment,
  MPIEnvironment,
  parseRunArgs,
  rankEnvironment,
  SLURMEnvironment,
  TorchElasticEnvironment,
} from "../src";

function ranksOf(env: ReturnType<typeof detectClusterEnvironment>) {
  return {
    name: env.name,
    external: env.creatorIsExternal,
    address: env.mainAddress(),
    port: env.mainPort(),
    world: env.worldSize(),
    rank: env.globalRank(),
    local: env.localRank(),
    node: env.nodeRank(),
  };
}

describe("cluster environments, detected in Lightning's order", () => {
  it("torchrun's variables", () => {
    const env = {
      RANK: "5",
      WORLD_SIZE: "8",
      LOCAL_RANK: "1",
      GROUP_RANK: "2",
      LOCAL_WORLD_SIZE: "2",
      MASTER_ADDR: "10.0.0.1",
      MASTER_PORT: "29400",
      SLURM_NTASKS: "8", // torchrun inside a SLURM allocation: TorchElastic wins, as in Lightning
    };
    expect(ranksOf(detectClusterEnvironment(env))).toEqual({
      name: "torchelastic",
      external: true,
      address: "10.0.0.1",
      port: 29400,
      world: 8,
      rank: 5,
      local: 1,
      node: 2,
    });
  });

  it("srun's variables: first host of the node list, port from the job id", () => {
    const env = {
      SLURM_NTASKS: "4",
      SLURM_PROCID: "3",
      SLURM_LOCALID: "1",
      SLURM_NODEID: "1",
      SLURM_NODELIST: "gpu[007-008]",
      SLURM_JOB_ID: "1234567",
      SLURM_JOB_NAME: "train",
    };
    expect(ranksOf(detectClusterEnvironment(env))).toEqual({
      name: "slurm",
      external: true,
      address: "gpu007",
      port: 15000 + 4567,
      world: 4,
      rank: 3,
      local: 1,
      node: 1,
    });
    expect(detectClusterEnvironment({ ...env, SLURM_JOB_NAME: "bash" }).name).toBe("lightning");
    expect(() => new SLURMEnvironment({ ...env, SLURM_NTASKS_PER_NODE: "4" }).validate(2, 2)).toThrow(
      /4 task\(s\) per node .* devices is 2/,
    );
  });

  it("expands SLURM host lists as scontrol does", () => {
    expect(expandSlurmHostList("node[001-003,007],login,r[1-2]-n[1-2]")).toEqual([
      "node001",
      "node002",
      "node003",
      "node007",
      "login",
      "r1-n1",
      "r1-n2",
      "r2-n1",
      "r2-n2",
    ]);
    expect(() => expandSlurmHostList("node[1-3")).toThrow(/unbalanced/);
  });

  it("LSF's jsrun variables and rank file", () => {
    const rankFile = join(mkdtempSync(join(tmpdir(), "lsf-")), "ranks");
    writeFileSync(rankFile, `batch1\n${hostname()}\n${hostname()}\nother\nother\n`);
    const env = {
      LSB_JOBID: "4242",
      LSB_DJOB_RANKFILE: rankFile,
      JSM_NAMESPACE_LOCAL_RANK: "1",
      JSM_NAMESPACE_SIZE: "4",
      JSM_NAMESPACE_RANK: "1",
    };
    expect(ranksOf(detectClusterEnvironment(env))).toEqual({
      name: "lsf",
      external: true,
      address: hostname(),
      port: 10242,
      world: 4,
      rank: 1,
      local: 1,
      node: 0,
    });
    expect(new LSFEnvironment(env).name).toBe("lsf");
  });

  it("Open MPI's variables; several hosts need MASTER_ADDR", () => {
    const env = {
      OMPI_COMM_WORLD_SIZE: "4",
      OMPI_COMM_WORLD_RANK: "3",
      OMPI_COMM_WORLD_LOCAL_RANK: "1",
      OMPI_COMM_WORLD_LOCAL_SIZE: "2",
      MASTER_PORT: "29500",
    };
    expect(() => detectClusterEnvironment(env).mainAddress()).toThrow(/mpirun -x MASTER_ADDR/);
    expect(ranksOf(new MPIEnvironment({ ...env, MASTER_ADDR: "h0" }))).toEqual({
      name: "mpi",
      external: true,
      address: "h0",
      port: 29500,
      world: 4,
      rank: 3,
      local: 1,
      node: 1,
    });
    expect(detectClusterEnvironment({ OMPI_COMM_WORLD_SIZE: "1" }).name).toBe("lightning");
  });

  it("Kubeflow is never detected, only passed", () => {
    const env = {
      WORLD_SIZE: "3",
      RANK: "2",
      MASTER_ADDR: "master-0",
      MASTER_PORT: "23456",
      KUBERNETES_PORT: "x",
    };
    expect(detectClusterEnvironment(env).name).toBe("lightning");
    expect(ranksOf(new KubeflowEnvironment(env))).toMatchObject({ rank: 2, world: 3, node: 2, local: 0 });
  });

  it("plain variables (Lightning's own environment)", () => {
    const env = { LOCAL_RANK: "1", NODE_RANK: "1", WORLD_SIZE: "4", MASTER_ADDR: "a", MASTER_PORT: "1" };
    expect(ranksOf(detectClusterEnvironment(env, 2))).toEqual({
      name: "lightning",
      external: true,
      address: "a",
      port: 1,
      world: 4,
      rank: 3,
      local: 1,
      node: 1,
    });
    expect(new TorchElasticEnvironment(env).name).toBe("torchelastic");
  });
});

describe("the DDP strategy's configuration", () => {
  it("checks that an external launcher's world matches devices × numNodes", () => {
    const strategy = new DDPStrategy({
      clusterEnvironment: new TorchElasticEnvironment({
        RANK: "0",
        WORLD_SIZE: "3",
        LOCAL_RANK: "0",
        GROUP_RANK: "0",
        MASTER_PORT: "1",
      }),
    });
    expect(() => strategy.configureWorld({ devices: 2, numNodes: 1 })).toThrow(
      /runs 3 process\(es\) but devices/,
    );
  });

  it("refuses to set up a model before launch, and names the strategies Node cannot have", () => {
    const fabric = new Fabric({
      accelerator: "cpu",
      devices: 2,
      strategy: new DDPStrategy({
        clusterEnvironment: new KubeflowEnvironment({ WORLD_SIZE: "2", RANK: "1", MASTER_PORT: "1" }),
      }),
    });
    expect(fabric.globalRank).toBe(1);
    expect(() => fabric.barrier()).toThrow(/call `await fabric.launch\(\)`/);
    expect(() => new Fabric({ accelerator: "cpu", devices: 2, strategy: "ddp_spawn" })).toThrow(
      /re-runs the script/,
    );
  });

  it("fulmen run gives each rank its place, including how many ranks share the machine", () => {
    const plan = parseRunArgs([
      "--devices",
      "2",
      "--num-nodes",
      "2",
      "--node-rank",
      "1",
      "train.js",
      "--lr",
      "1",
    ])!;
    expect(plan.scriptArgs).toEqual(["--lr", "1"]);
    expect(rankEnvironment(plan, 1, {})).toMatchObject({
      RANK: "3",
      LOCAL_RANK: "1",
      LOCAL_WORLD_SIZE: "2",
      WORLD_SIZE: "4",
      NODE_RANK: "1",
      FULMEN_STRATEGY: "ddp",
    });
  });

  it("fulmen run's flags fill unset options and refuse contradictions", () => {
    const env = { FULMEN_DEVICES: "2", FULMEN_STRATEGY: "ddp", FULMEN_PRECISION: "bf16-mixed" };
    expect(applyCliOverrides({ accelerator: "cpu" }, env)).toEqual({
      accelerator: "cpu",
      devices: 2,
      strategy: "ddp",
      precision: "bf16-mixed",
    });
    expect(() => applyCliOverrides({ devices: 4 }, env)).toThrow(
      /sets devices: 4 but `fulmen run` was given 2/,
    );
  });
});
