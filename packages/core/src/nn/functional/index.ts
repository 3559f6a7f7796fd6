/**
 * `nn.functional`: PyTorch's functional forms, one file per family (losses, activations, convolution and pooling,
 * normalisation, attention), gathered here.
 */
export * from "./activations";
export * from "./attention";
export * from "./bilinear";
export * from "./convolution";
export * from "./distance";
export * from "./dropout";
export * from "./embedding";
export * from "./embedding-bag";
export * from "./fold";
export * from "./grid-sample";
export * from "./linear";
export * from "./local-response-norm";
export * from "./losses";
export * from "./normalization";
export * from "./recurrent";
export * from "./shuffle";
export * from "./smooth-activations";
export * from "./threshold-activations";
