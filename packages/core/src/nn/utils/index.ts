/**
 * `torch.nn.utils`: gradient clipping (also at the top level, as Fulmen's optimizers use it), parameters as one
 * vector, and the sequence utilities (`nn.utils.rnn`).
 */
export { type ClipGradNormOptions, clipGradNorm_, clipGradValue_ } from "../../optim/clip-grad";
export { parametersToVector, vectorToParameters } from "./parameters-vector";
export * as rnn from "./rnn";
