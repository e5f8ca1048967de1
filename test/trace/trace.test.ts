import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RecordingTrace, fanOut, jsonLinesTrace, traceEventToJson } from '../../src/trace/index.js';

test('RecordingTrace keeps events in order and filters by kind', () => {
  const t = new RecordingTrace();
  t.emit({ layer: 'bus', source: 'server', kind: 'message-dropped', reason: 'unknown channel 9' });
  t.emit({ layer: 'bus', source: 'server', kind: 'offer-sent' });
  t.emit({ layer: 'bus', source: 'server', kind: 'message-dropped', reason: 'wrong state' });
  assert.deepEqual(
    t.ofKind('message-dropped').map((e) => e.reason),
    ['unknown channel 9', 'wrong state'],
  );
});

test('fanOut delivers each event to every sink', () => {
  const a = new RecordingTrace();
  const b = new RecordingTrace();
  fanOut(a, b).emit({ layer: 'ring', source: 'r0', kind: 'corrupt' });
  assert.equal(a.events.length, 1);
  assert.equal(b.events.length, 1);
});

test('JSON lines keep bigint details exact as decimal strings', () => {
  const lines: string[] = [];
  jsonLinesTrace((l) => lines.push(l)).emit({
    layer: 'bus', source: 'client', kind: 'completion', detail: { transactionId: 2n ** 64n - 1n },
  });
  assert.equal(lines.length, 1);
  assert.equal(JSON.parse(lines[0]!).detail.transactionId, '18446744073709551615');
  assert.match(traceEventToJson({ layer: 'hv', source: 'p1', kind: 'x' }), /^\{"layer":"hv"/);
});
