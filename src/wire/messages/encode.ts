/**
 * encodeMessage: a ChannelMessage → its exact wire bytes, header included.
 */
import { WireError, wireError } from '../wire-error.js';
import { describeValue, measureFields, writeFields } from './codec.js';
import { variantOfKind } from './catalog.js';
import { MAX_MESSAGE_SIZE } from './transport.js';
import type { ChannelMessage } from './types.js';

/**
 * Encodes a message in the layout of its `kind`. Every field is checked (type,
 * range, byte-array length; GUIDs in canonical form) and padding is zero. Returns
 * 'unknown-type' for a kind the table does not have, 'bad-value' for a field that
 * does not fit, 'oversized' when trailing GPADL data makes it exceed 240 bytes.
 * Properties that are not fields of the kind are ignored.
 */
export function encodeMessage(msg: ChannelMessage): Uint8Array | WireError {
  if (typeof msg !== 'object' || msg === null) return wireError('bad-value', 'a message must be an object');
  const kind: unknown = msg.kind;
  const found = typeof kind === 'string' ? variantOfKind(kind) : undefined;
  if (found === undefined) return wireError('unknown-type', `no channel message kind ${describeValue(kind)}`);
  const { spec, variant } = found;
  const source = msg as unknown as Readonly<Record<string, unknown>>;

  const size = measureFields(variant.fields, variant.size, source, variant.kind);
  if (size instanceof WireError) return size;
  if (size > MAX_MESSAGE_SIZE) {
    return wireError('oversized', `${variant.kind} of ${size} bytes exceeds the ${MAX_MESSAGE_SIZE}-byte SynIC payload`);
  }
  const bytes = new Uint8Array(size);
  new DataView(bytes.buffer).setUint32(0, spec.type, true);
  writeFields(bytes, variant.fields, source);
  return bytes;
}
