/** `torch.nn.utils`: the sequence utilities (`nn.utils.rnn`). */
export * as rnn from "./rnn";
