import assert from 'node:assert/strict';
import { test } from 'node:test';

import { renderTable } from '../../bench/harness/table.js';

test('renderTable pads columns to the widest cell, aligning each as declared', () => {
  const text = renderTable({
    title: 'ring throughput',
    columns: [
      { header: 'payload', align: 'right' },
      { header: 'impl', align: 'left' },
      { header: 'MB/s', align: 'right' },
    ],
    rows: [
      ['64 B', 'kmcl', '12.5'],
      ['16384 B', 'c', '1,234.0'],
    ],
  });
  assert.equal(
    text,
    [
      'ring throughput',
      'payload  impl     MB/s',
      '-------  ----  -------',
      '   64 B  kmcl     12.5',
      '16384 B  c     1,234.0',
    ].join('\n'),
  );
});

test('renderTable shows missing cells as blanks and trims trailing spaces', () => {
  const text = renderTable({
    title: 't',
    columns: [
      { header: 'a', align: 'left' },
      { header: 'bb', align: 'left' },
    ],
    rows: [['xyz']],
  });
  assert.equal(text, ['t', 'a    bb', '---  --', 'xyz'].join('\n'));
});
