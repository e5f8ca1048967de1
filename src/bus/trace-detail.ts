/**
 * The small values the bus drivers put in trace events: which message (its
 * type from the 8-byte header, openvmm-vmbus.md §6.1) and what went wrong.
 */
import { messageSpecOfType } from '../wire/messages/index.js';

/** The message's type number and name (read from the header, if there is one) and its length. */
export function messageDetail(bytes: Uint8Array): { messageType: number | null; message: string; length: number } {
  if (bytes.length < 4) return { messageType: null, message: 'truncated', length: bytes.length };
  const messageType = (bytes[0]! | (bytes[1]! << 8) | (bytes[2]! << 16) | (bytes[3]! << 24)) >>> 0;
  return { messageType, message: messageSpecOfType(messageType)?.name ?? 'unknown', length: bytes.length };
}

/** A thrown value as a sentence. */
export function problemText(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
