/**
 * `kmcl ring init|read|write`: ring images in files, read and written with the
 * same engine (and the same validation of every index and descriptor) as the bus.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { Command, InvalidArgumentError } from 'commander';
import { RING_CONTROL_WORD, RING_DATA_OFFSET } from '../wire/ring-control.js';
import { PACKET_DESCRIPTOR_SIZE } from '../wire/packet-descriptor.js';
import { WireError } from '../wire/wire-error.js';
import { encodePacket } from '../wire/packet.js';
import { packetFromJson, packetToJson } from '../wire/json/index.js';
import { FlatRingMemory, RingCorruptError, RingReader, RingWriter, initializeRing } from '../ring/index.js';
import { CliError, fail } from './cli-error.js';
import { RingImage, type RingLocation } from './ring-image.js';
import { parseJson } from './wire-command.js';

interface LocationOptions {
  offset: number;
  pages?: number;
}

const integer = (min: number) => (text: string): number => {
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n < min) throw new InvalidArgumentError(`expected an integer >= ${min}`);
  return n;
};

function location(file: string, options: LocationOptions): RingLocation {
  return { file, offset: options.offset, pages: options.pages };
}

// Ring engine errors on a corrupt image become one line; anything else is a bug.
function engine<T>(file: string, work: () => T): T {
  try {
    return work();
  } catch (e) {
    if (e instanceof RingCorruptError) fail(e, `${file}: corrupt ring`);
    if (e instanceof RangeError) throw new CliError(`${file}: ${e.message}`);
    throw e;
  }
}

export function ringCommand(print: (text: string) => void): Command {
  const ring = new Command('ring')
    .description('read and write VMBus ring buffer images (control page + data pages)')
    .addHelpText('after', `
Examples:
  $ kmcl ring init /tmp/ring.bin --pages 4
  $ echo '{"packetType":"VM_PKT_DATA_INBAND","payload":"68656c6c6f"}' | kmcl ring write /tmp/ring.bin
  $ kmcl ring read /tmp/ring.bin`);
  const withLocation = (cmd: Command): Command =>
    cmd
      .option('--offset <bytes>', 'byte offset of the ring in the file', integer(0), 0)
      .option('--pages <n>', 'pages in the ring, control page included (default: to the end of the file)', integer(2));

  ring
    .command('init')
    .description('create an empty ring: zero indices, pending-send-size feature bit set')
    .argument('<file>', 'file to create (overwritten)')
    .requiredOption('--pages <n>', 'pages in the ring, control page included', integer(2))
    .addHelpText('after', '\nExample:\n  $ kmcl ring init /tmp/ring.bin --pages 4')
    .action((file: string, options: { pages: number }) => {
      const memory = engine(file, () => FlatRingMemory.allocate(options.pages - 1, { shared: false }));
      initializeRing(memory);
      try {
        writeFileSync(file, memory.bytes);
      } catch (e) {
        throw new CliError(`${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
      }
      print(JSON.stringify({ file, pages: options.pages, dataSize: memory.dataSize }));
    });

  withLocation(
    ring
      .command('read')
      .description('print each pending packet as a JSON line and advance the read index in the file')
      .argument('<file>', 'ring image (a dump, or a mapped ring region)'),
  )
    .addHelpText('after', '\nExamples:\n  $ kmcl ring read /tmp/ring.bin\n  $ kmcl ring read dump.bin --offset 65536 --pages 16')
    .action((file: string, options: LocationOptions) => {
      const image = RingImage.load(location(file, options));
      const lines = engine(file, () => {
        const reader = new RingReader(image.memory);
        const out: string[] = [];
        while (reader.tryRead()) {
          const packet = reader.packet.decode();
          if (packet instanceof WireError) fail(packet, `${file}: corrupt packet`);
          out.push(JSON.stringify(packetToJson(packet)));
        }
        reader.commit();
        return out;
      });
      // Only the read index changes: the consumer owns nothing else on the page.
      const readIndexAt = RING_CONTROL_WORD.readIndex * 4;
      image.store([[readIndexAt, readIndexAt + 4]]);
      for (const line of lines) print(line);
    });

  withLocation(
    ring
      .command('write')
      .description('append packets given as JSON lines on stdin (as printed by "ring read" or "wire decode packet")')
      .argument('<file>', 'ring image'),
  )
    .addHelpText('after', `
Example:
  $ echo '{"packetType":"VM_PKT_DATA_INBAND","flags":1,"transactionId":7,"payload":"68656c6c6f"}' | kmcl ring write /tmp/ring.bin`)
    .action((file: string, options: LocationOptions) => {
      const image = RingImage.load(location(file, options));
      const packets = readPacketLines(readFileSync(0, 'utf8'));
      const { start, end, bytes } = engine(file, () => {
        const writer = new RingWriter(image.memory);
        const start = Atomics.load(image.memory.control, RING_CONTROL_WORD.writeIndex);
        let bytes = 0;
        for (const [i, packet] of packets.entries()) {
          // The encoded descriptor (openvmm-vmbus.md §6.3): type @0, dataOffset8 @2, flags @6, id @8.
          const d = new DataView(packet.buffer, packet.byteOffset);
          const dataOffset = d.getUint16(2, true) * 8;
          const header = packet.subarray(PACKET_DESCRIPTOR_SIZE, dataOffset);
          const payload = packet.subarray(dataOffset);
          if (!writer.tryWrite(d.getUint16(0, true), d.getUint16(6, true), d.getUint32(8, true), d.getUint32(12, true), header, payload)) {
            throw new CliError(`${file}: ring full at packet ${i + 1}: it needs ${writer.neededBytes} bytes, ${writer.writableBytes()} are free`);
          }
          bytes += packet.length;
        }
        writer.commit();
        return { start, end: Atomics.load(image.memory.control, RING_CONTROL_WORD.writeIndex), bytes };
      });
      const writeIndexAt = RING_CONTROL_WORD.writeIndex * 4;
      image.store([...dataRanges(start, end, image.memory.dataSize), [writeIndexAt, writeIndexAt + 4]]);
      print(JSON.stringify({ packets: packets.length, bytes, writeIndex: end }));
    });

  return ring;
}

/** Each non-empty line: a packet as JSON, encoded (and so validated) before anything is written. */
function readPacketLines(text: string): Uint8Array[] {
  const packets: Uint8Array[] = [];
  for (const [i, line] of text.split('\n').entries()) {
    if (line.trim() === '') continue;
    const init = packetFromJson(parseJson(line));
    if (init instanceof WireError) fail(init, `stdin line ${i + 1}`);
    const bytes = encodePacket(init);
    if (bytes instanceof WireError) fail(bytes, `stdin line ${i + 1}`);
    packets.push(bytes);
  }
  return packets;
}

/** The data-area byte ranges (offsets within the ring image) between two write indices, wrap included. */
function dataRanges(from: number, to: number, dataSize: number): [number, number][] {
  const at = (index: number): number => RING_DATA_OFFSET + index;
  if (from === to) return [];
  if (from < to) return [[at(from), at(to)]];
  return [[at(from), at(dataSize)], [at(0), at(to)]];
}
