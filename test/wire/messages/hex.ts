/**
 * Golden bytes written as commented hex: `hex('07000000 00000000 # header')`.
 * Whitespace is ignored and `#` starts a comment that runs to the end of the line.
 */
export function hex(text: string): Uint8Array {
  const digits = text
    .split('\n')
    .map((line) => line.replace(/#.*$/, ''))
    .join('')
    .replace(/\s+/g, '');
  if (!/^(?:[0-9a-f]{2})*$/.test(digits)) throw new Error(`bad golden hex: ${digits}`);
  return Uint8Array.from(digits.match(/../g) ?? [], (pair) => parseInt(pair, 16));
}

/** `n` zero bytes as hex digits, for long reserved or unused runs. */
export function zeros(n: number): string {
  return '00'.repeat(n);
}
