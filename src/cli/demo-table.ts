/**
 * The channel table `kmcl demo` prints once the guest's drivers are bound,
 * `lsvmbus -vv` style: one row per channel, by channel id (lsvmbus's
 * Rel_ID), with the class name and GUID, the instance (Device_ID), the ring
 * sizes each way and the versions the device and its driver agreed on.
 */
import type { DemoChannel } from '../demo/demo-events.js';

const HEADERS = ['ID', 'CLASS', 'CLASS GUID', 'INSTANCE GUID', 'RINGS OUT/IN', 'VERSION'] as const;

/** 16384 → "16K": ring sizes are whole KiB. */
function kib(bytes: number): string {
  return bytes % 1024 === 0 ? `${bytes / 1024}K` : `${bytes}B`;
}

/** The table's lines, header first; ring sizes from the guest's side (out = guest to host). */
export function channelTable(channels: readonly DemoChannel[]): string[] {
  const rows = [...channels]
    .sort((a, b) => a.channelId - b.channelId)
    .map((channel) => [
      String(channel.channelId),
      channel.name,
      channel.classId,
      channel.instanceId,
      `${kib(channel.guestToHostRingBytes)}/${kib(channel.hostToGuestRingBytes)}`,
      channel.version,
    ]);
  const table = [[...HEADERS], ...rows];
  const widths = HEADERS.map((_, column) => Math.max(...table.map((row) => row[column]!.length)));
  return table.map((row) =>
    row
      .map((cell, column) => (column === 0 ? cell.padStart(widths[0]!) : cell.padEnd(widths[column]!)))
      .join('  ')
      .trimEnd(),
  );
}
