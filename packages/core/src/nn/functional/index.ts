/**
 * `nn.functional`: PyTorch's functional forms, one file per family (losses, activations, convolution and pooling,
 * normalisation, attention), gathered here.
 */
export * from "./losses";
