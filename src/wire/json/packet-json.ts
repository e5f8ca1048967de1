/**
 * Ring packets ⇄ JSON. `packetType` is written as its number with the Linux
 * name beside it (`packetTypeName`); either is accepted when reading. Fields the
 * encoder can derive (`dataOffset8`, `length8`, flags, transaction id, bytes)
 * may be left out.
 */
import { WireError, wireError } from '../wire-error.js';
import { PACKET_TYPE, packetTypeName, type PacketTypeName } from '../packet-types.js';
import type { Packet, PacketInit } from '../packet.js';
import { asJsonObject, bytesFromJson, u64FromJson, wireToJson } from './json-values.js';

export function packetToJson(packet: Packet): Record<string, unknown> {
  const { packetType, ...rest } = packet;
  return { packetType, packetTypeName: packetTypeName(packetType), ...(wireToJson(rest) as object) };
}

/** The packet a JSON object describes, for `encodePacket` (which checks every value). */
export function packetFromJson(json: unknown): PacketInit | WireError {
  const obj = asJsonObject(json, 'a packet');
  if (obj instanceof WireError) return obj;
  const { packetTypeName: _name, ...fields } = obj;
  const out: Record<string, unknown> = { ...fields };

  const type = obj['packetType'];
  if (typeof type === 'string') {
    if (!(type in PACKET_TYPE)) return wireError('unknown-type', `packetType: no packet type named ${JSON.stringify(type)}`);
    out['packetType'] = PACKET_TYPE[type as PacketTypeName];
  }
  if ('transactionId' in obj) {
    const id = u64FromJson(obj['transactionId'], 'transactionId');
    if (id instanceof WireError) return id;
    out['transactionId'] = id;
  }
  for (const name of ['payload', 'extraHeader'] as const) {
    if (!(name in obj)) continue;
    const bytes = bytesFromJson(obj[name], name);
    if (bytes instanceof WireError) return bytes;
    out[name] = bytes;
  }
  if (Array.isArray(obj['ranges'])) {
    const ranges = rangesFromJson(obj['ranges']);
    if (ranges instanceof WireError) return ranges;
    out['ranges'] = ranges;
  }
  return out as unknown as PacketInit;
}

// GPA-direct ranges carry `gpns` (u64 page numbers); transfer-page ranges do not.
function rangesFromJson(ranges: readonly unknown[]): unknown[] | WireError {
  const out: unknown[] = [];
  for (const [i, r] of ranges.entries()) {
    const range = asJsonObject(r, `ranges[${i}]`);
    if (range instanceof WireError) return range;
    const gpns = range['gpns'];
    if (gpns === undefined) {
      out.push({ ...range });
      continue;
    }
    if (!Array.isArray(gpns)) return wireError('bad-value', `ranges[${i}].gpns: expected an array`);
    const pages: bigint[] = [];
    for (const [j, g] of gpns.entries()) {
      const page = u64FromJson(g, `ranges[${i}].gpns[${j}]`);
      if (page instanceof WireError) return page;
      pages.push(page);
    }
    out.push({ ...range, gpns: pages });
  }
  return out;
}
