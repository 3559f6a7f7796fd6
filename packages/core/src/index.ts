/**
 * @fulmen/core: PyTorch-exact modules, optimizers, LR schedulers and clipping on TensorFlow.js, and the
 * interfaces that every Fulmen plugin implements.
 */
export { tf } from "./runtime/tfjs";
export { FulmenError } from "./utils/errors";
export { toCamelCase } from "./utils/options";
export { Generator, type GeneratorState } from "./random/generator";
export { seedEverything, manualSeed, getDefaultGenerator, drawSeed } from "./random/seed";
export { Parameter, type ParameterOptions } from "./autograd/parameter";
export { backward, toParameterList, type ParameterSource } from "./autograd/backward";
export { Module, type StateDict, type LoadStateDictOptions, type LoadStateDictResult } from "./nn/module";
export * as nn from "./nn/index";
export {
  Optimizer,
  type BaseOptimizerOptions,
  type ParamGroup,
  type ParamGroupInput,
  type ParamsInput,
  type ParamState,
  type OptimizerStateDict,
} from "./optim/optimizer";
export { SGD, type SGDOptions } from "./optim/sgd";
export { Adam, AdamW, type AdamOptions } from "./optim/adam";
export { RMSprop, type RMSpropOptions } from "./optim/rmsprop";
export { Adagrad, type AdagradOptions } from "./optim/adagrad";
export { clipGradNorm_, clipGradValue_, type ClipGradNormOptions } from "./optim/clip-grad";
export * from "./optim/lr-scheduler/index";
