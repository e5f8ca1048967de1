/**
 * `kmcl wire decode|encode <message|packet>`: channel-management messages and
 * ring packets between hex bytes and JSON.
 */
import { Command } from 'commander';
import { WireError } from '../wire/wire-error.js';
import { decodeMessage, encodeMessage } from '../wire/messages/index.js';
import { decodePacket, encodePacket } from '../wire/packet.js';
import { bytesToHex, hexToBytes, messageFromJson, messageToJson, packetFromJson, packetToJson } from '../wire/json/index.js';
import { CliError, fail } from './cli-error.js';

/** One wire format the command knows: bytes → JSON-ready data, JSON → bytes. */
interface WireFormat {
  decode(bytes: Uint8Array): unknown;
  encode(json: unknown): Uint8Array | WireError;
}

const FORMATS: Readonly<Record<string, WireFormat>> = {
  message: {
    decode: (bytes) => {
      const msg = decodeMessage(bytes);
      return msg instanceof WireError ? msg : messageToJson(msg);
    },
    encode: (json) => {
      const msg = messageFromJson(json);
      return msg instanceof WireError ? msg : encodeMessage(msg);
    },
  },
  packet: {
    decode: (bytes) => {
      const packet = decodePacket(bytes);
      return packet instanceof WireError ? packet : packetToJson(packet);
    },
    encode: (json) => {
      const packet = packetFromJson(json);
      return packet instanceof WireError ? packet : encodePacket(packet);
    },
  },
};

function formatOf(what: string): WireFormat {
  const format = FORMATS[what];
  if (format === undefined) throw new CliError(`<what> must be "message" or "packet", not "${what}"`);
  return format;
}

export function wireCommand(print: (text: string) => void): Command {
  const wire = new Command('wire')
    .description('decode and encode VMBus wire formats (hex <-> JSON)')
    .addHelpText('after', `
Examples:
  $ kmcl wire decode message 0700000000000000 05000000
  $ kmcl wire encode packet '{"packetType":"VM_PKT_COMP","transactionId":42}'`);

  wire
    .command('decode')
    .description('decode hex bytes into JSON')
    .argument('<what>', '"message" (channel-management message, 8-byte header included) or "packet" (one ring packet: descriptor to padding, no trailer)')
    .argument('<hex...>', 'the bytes as hex; spaces and colons are ignored')
    .addHelpText('after', `
Examples:
  $ kmcl wire decode message 0700000000000000 05000000
  $ kmcl wire decode packet 0600020003000100 2a00000000000000 6869000000000000`)
    .action((what: string, hex: string[]) => {
      const bytes = hexToBytes(hex.join(''), 'hex');
      if (bytes instanceof WireError) fail(bytes);
      const decoded = formatOf(what).decode(bytes);
      if (decoded instanceof WireError) fail(decoded, `malformed ${what}`);
      print(JSON.stringify(decoded, null, 2));
    });

  wire
    .command('encode')
    .description('encode JSON (as printed by decode) into hex bytes')
    .argument('<what>', '"message" or "packet"')
    .argument('<json>', 'the structure as JSON; derived fields (sizes, offsets) may be left out of packets')
    .addHelpText('after', `
Examples:
  $ kmcl wire encode message '{"kind":"CloseChannel","channelId":5}'
  $ kmcl wire encode packet '{"packetType":"VM_PKT_DATA_INBAND","flags":1,"transactionId":42,"payload":"6869"}'`)
    .action((what: string, json: string) => {
      const bytes = formatOf(what).encode(parseJson(json));
      if (bytes instanceof WireError) fail(bytes, `cannot encode ${what}`);
      print(bytesToHex(bytes));
    });

  return wire;
}

export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new CliError(`not valid JSON: ${(e as Error).message}`);
  }
}
