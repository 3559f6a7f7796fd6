declare module "nlp-corpus" {
  const corpus: { some(max?: number): string[]; all(): string[] };
  export default corpus;
}
