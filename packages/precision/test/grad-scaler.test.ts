import { Parameter, SGD, tf } from "@fulmen/core";
import { describe, expect, it } from "vitest";
import { GradScaler } from "../src/index";

function setup() {
  const p = new Parameter([1, 1]);
  return { p, opt: new SGD([p], { lr: 1 }) };
}

describe("GradScaler", () => {
  it("scales the loss and unscales the gradients before stepping", () => {
    const { p, opt } = setup();
    const scaler = new GradScaler({ initScale: 1024 });
    expect(scaler.scale(tf.scalar(2)).dataSync()[0]).toBe(2048);
    p.setGrad(tf.tensor1d([1024, 2048]));
    expect(scaler.step(opt)).toBe(true);
    scaler.update();
    expect(Array.from(p.data.dataSync())).toEqual([0, -1]);
  });

  it("skips a step whose gradients hold inf or NaN and backs the scale off", () => {
    const { p, opt } = setup();
    const scaler = new GradScaler({ initScale: 8 });
    p.setGrad(tf.tensor1d([Number.NaN, 1]));
    expect(scaler.step(opt)).toBe(false);
    scaler.update();
    expect(Array.from(p.data.dataSync())).toEqual([1, 1]);
    expect(scaler.getScale()).toBe(4);
  });

  it("DeepSpeed's hysteresis and minimum: backs off only after `hysteresis` overflows, never below minScale", () => {
    const { p, opt } = setup();
    const scaler = new GradScaler({ initScale: 8, hysteresis: 2, minScale: 4, growthInterval: 2 });
    const overflow = () => {
      p.setGrad(tf.tensor1d([Number.POSITIVE_INFINITY, 1]));
      expect(scaler.step(opt)).toBe(false);
      scaler.update();
    };
    overflow();
    expect(scaler.getScale()).toBe(8); // the first overflow is tolerated
    overflow();
    expect(scaler.getScale()).toBe(4);
    overflow();
    expect(scaler.getScale()).toBe(4); // the floor
    for (let i = 0; i < 2; i++) {
      p.setGrad(tf.tensor1d([0, 0]));
      expect(scaler.step(opt)).toBe(true);
      scaler.update();
    }
    expect(scaler.getScale()).toBe(8); // grown, and the tolerance restored
    overflow();
    expect(scaler.getScale()).toBe(8);
    expect(scaler.stateDict().hysteresisLeft).toBe(1);
    p.dispose();
  });

  it("a fixed scale (dynamic false) skips overflowing steps and never changes", () => {
    const { p, opt } = setup();
    const scaler = new GradScaler({ initScale: 16, dynamic: false, growthInterval: 1 });
    p.setGrad(tf.tensor1d([Number.NaN, 1]));
    expect(scaler.step(opt)).toBe(false);
    scaler.update();
    p.setGrad(tf.tensor1d([0, 0]));
    expect(scaler.step(opt)).toBe(true);
    scaler.update();
    expect(scaler.getScale()).toBe(16);
    expect(() => new GradScaler({ hysteresis: 0 })).toThrow(/hysteresis/);
    p.dispose();
  });

  it("grows the scale after growthInterval clean steps", () => {
    const { p, opt } = setup();
    const scaler = new GradScaler({ initScale: 2, growthInterval: 3 });
    for (let i = 0; i < 3; i++) {
      p.setGrad(tf.tensor1d([0, 0]));
      scaler.step(opt);
      scaler.update();
    }
    expect(scaler.getScale()).toBe(4);
  });

  it("refuses to unscale twice and names bad options", () => {
    const { p, opt } = setup();
    const scaler = new GradScaler();
    p.setGrad(tf.tensor1d([1, 1]));
    scaler.unscale_(opt);
    expect(() => scaler.unscale_(opt)).toThrow(/already called/);
    expect(() => new GradScaler({ init_scale: 2 } as never)).toThrow(/unknown option/);
    expect(() => new GradScaler({ backoffFactor: 2 })).toThrow(/backoffFactor/);
  });

  it("round-trips its state", () => {
    const a = new GradScaler({ initScale: 16, growthInterval: 5 });
    const { p, opt } = setup();
    p.setGrad(tf.tensor1d([Number.POSITIVE_INFINITY, 0]));
    a.step(opt);
    a.update();
    const b = new GradScaler({ growthInterval: 5 });
    b.loadStateDict(a.stateDict());
    expect(b.getScale()).toBe(8);
  });

  it("passes through when disabled", () => {
    const { p, opt } = setup();
    const scaler = new GradScaler({ enabled: false });
    const loss = tf.scalar(3);
    expect(scaler.scale(loss)).toBe(loss);
    p.setGrad(tf.tensor1d([1, 1]));
    scaler.step(opt);
    expect(Array.from(p.data.dataSync())).toEqual([0, 0]);
  });
});
