/**
 * Channel messages ⇄ JSON, driven by the message table's field kinds, so a new
 * field or variant needs no edit here. Field names are those of the decoded
 * message (camelCase of OpenVMM's), plus `kind`.
 */
import { WireError, wireError } from '../wire-error.js';
import { variantOfKind } from '../messages/catalog.js';
import type { ChannelMessage } from '../messages/types.js';
import type { FieldSpec } from '../messages/layout.js';
import { asJsonObject, bytesFromJson, u64FromJson, wireToJson } from './json-values.js';

/** A decoded message as a JSON-ready object (u64 as number or 0x string, bytes as hex). */
export function messageToJson(msg: ChannelMessage): Record<string, unknown> {
  return wireToJson(msg) as Record<string, unknown>;
}

/**
 * The message a JSON object describes. Converts u64, byte and u64-array fields
 * by the table; every other check (ranges, lengths, GUIDs) is the encoder's.
 */
export function messageFromJson(json: unknown): ChannelMessage | WireError {
  const obj = asJsonObject(json, 'a message');
  if (obj instanceof WireError) return obj;
  const kind = obj['kind'];
  const found = typeof kind === 'string' ? variantOfKind(kind) : undefined;
  if (found === undefined) return wireError('unknown-type', `"kind" must name a message variant, got ${JSON.stringify(kind)}`);
  const msg: Record<string, unknown> = { kind };
  for (const field of found.variant.fields) {
    if (field.kind === 'pad') continue;
    if (!(field.name in obj)) return wireError('bad-value', `${kind}: missing field "${field.name}"`);
    const value = fieldFromJson(field, obj[field.name], `${kind}.${field.name}`);
    if (value instanceof WireError) return value;
    msg[field.name] = value;
  }
  return msg as ChannelMessage;
}

function fieldFromJson(field: FieldSpec, value: unknown, where: string): unknown {
  switch (field.kind) {
    case 'u64':
      return u64FromJson(value, where);
    case 'bytes':
      return bytesFromJson(value, where);
    case 'u64-array': {
      if (!Array.isArray(value)) return wireError('bad-value', `${where}: expected an array of u64 values`);
      const out: bigint[] = [];
      for (const [i, v] of value.entries()) {
        const u = u64FromJson(v, `${where}[${i}]`);
        if (u instanceof WireError) return u;
        out.push(u);
      }
      return out;
    }
    case 'u8':
    case 'u16':
    case 'u32':
    case 'guid':
    case 'pad':
      return value;
  }
}
