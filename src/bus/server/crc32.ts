/**
 * CRC-32 as zlib, PNG and Ethernet compute it (ISO 3309 / ITU-T V.42): the
 * reflected polynomial 0xEDB88320, initial value and final XOR 0xFFFFFFFF.
 * Its check value, the CRC of the ASCII bytes "123456789", is 0xCBF43926.
 * Saved states carry it so a flipped bit is caught before anything is decoded.
 */

const POLYNOMIAL = 0xedb88320;

/** One entry per byte value: the CRC register after shifting that byte through. */
const TABLE = Uint32Array.from({ length: 256 }, (_, byte) => {
  let crc = byte;
  for (let bit = 0; bit < 8; bit++) crc = crc & 1 ? (crc >>> 1) ^ POLYNOMIAL : crc >>> 1;
  return crc >>> 0;
});

/** The CRC-32 of `bytes`, as an unsigned 32-bit number. */
export function crc32(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of bytes) crc = TABLE[(crc ^ byte) & 0xff]! ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}
