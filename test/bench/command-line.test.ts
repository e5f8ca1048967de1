import assert from 'node:assert/strict';
import { test } from 'node:test';

import { parseBenchArguments } from '../../bench/harness/command-line.js';

test('bench arguments: names in order, --json and --help anywhere', () => {
  const cases: [string[], unknown][] = [
    [[], { names: [], json: false, help: false }],
    [['ring'], { names: ['ring'], json: false, help: false }],
    [['ring', '--json', 'c'], { names: ['ring', 'c'], json: true, help: false }],
    [['--json'], { names: [], json: true, help: false }],
    [['-h'], { names: [], json: false, help: true }],
    [['--help', 'ring'], { names: ['ring'], json: false, help: true }],
  ];
  for (const [args, expected] of cases) assert.deepEqual(parseBenchArguments(args), expected, args.join(' '));
});

test('bench arguments: an unknown option is an error, not a name', () => {
  for (const option of ['--jsn', '-j', '--']) {
    assert.deepEqual(parseBenchArguments(['ring', option]), { error: `unknown option ${option}` });
  }
});
