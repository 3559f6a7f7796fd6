declare module "crc-32/crc32c.js" {
  /** CRC-32C (Castagnoli). The package is CommonJS: its exports arrive as the default import. */
  const CRC32C: { buf(data: Uint8Array, seed?: number): number };
  export default CRC32C;
}
