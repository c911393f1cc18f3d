/** `netplumb show` and `netplumb check` command lines: what they select, and what they refuse. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseNetplumbArgs } from '../../src/cli/netplumb-args.js';
import { helpText } from '../../src/cli/netplumb-help.js';
import { rejectsArgv } from './support/assert-error.js';

const parse = (line: string) => parseNetplumbArgs(line.split(' ').filter(Boolean));
const refuses = (line: string, field: string): void => {
  rejectsArgv(parseNetplumbArgs, line.split(' '), field);
};

test('show: the whole host, a word, a bridge, a VLAN, a guest and one of its interfaces, pictures', () => {
  assert.deepEqual(parse('show'), { command: 'show', json: false, connection: {} });
  assert.deepEqual(parse('show ovs0 --json'), { command: 'show', word: 'ovs0', json: true, connection: {} });
  assert.deepEqual(parse('show --bridge br1'), { command: 'show', bridge: 'br1', json: false, connection: {} });
  assert.deepEqual(parse('show --vlan 100'), { command: 'show', vlan: 100, json: false, connection: {} });
  assert.deepEqual(parse('show --container netns:blue'), {
    command: 'show',
    guest: { netns: 'blue' },
    json: false,
    connection: {},
  });
  assert.deepEqual(parse('show con1 --ifname eth2'), {
    command: 'show',
    word: 'con1',
    ifname: 'eth2',
    json: false,
    connection: {},
  });
  assert.deepEqual(parse('show --svg a.svg --html - --no-daemon'), {
    command: 'show',
    svg: 'a.svg',
    html: '-',
    json: false,
    connection: {},
    noDaemon: true,
  });
});

test('show refuses two things at once, --ifname without a guest, a VLAN out of range, one file for both pictures', () => {
  refuses('show ovs0 con1', 'argv');
  refuses('show ovs0 --vlan 100', 'argv');
  refuses('show --ifname eth1', 'ifname');
  refuses('show --vlan 4095', 'vlan');
  refuses('show --svg x --html x', 'html');
  refuses('show ../etc', 'argv');
});

test('check: any number of words and containers, a bridge, a VLAN, the deadline, strict', () => {
  assert.deepEqual(parse('check'), { command: 'check', selections: [], json: false, connection: {} });
  assert.deepEqual(parse('check 100 con1 --container con2 --container netns:x --timeout 5 --strict --json'), {
    command: 'check',
    selections: [{ word: '100' }, { word: 'con1' }, { guest: { container: 'con2' } }, { guest: { netns: 'x' } }],
    timeoutSeconds: 5,
    strict: true,
    json: true,
    connection: {},
  });
  assert.deepEqual(parse('check --bridge ovs0 --vlan 200'), {
    command: 'check',
    selections: [{ bridge: 'ovs0' }, { vlan: 200 }],
    json: false,
    connection: {},
  });
  refuses('check --timeout 0', 'timeout');
  refuses('check --timeout 61', 'timeout');
});

test('help: show and check teach their arguments, the rules and the exit codes', () => {
  assert.match(helpText('show'), /^Usage: netplumb show \[BRIDGE\|VLAN\|CONTAINER\] \[options\]/);
  assert.match(helpText('show'), /Exit 0 whatever state the host is in/);
  assert.match(helpText('check'), /^Usage: netplumb check \[BRIDGE\|VLAN\|CONTAINER…\] \[options\]/);
  assert.match(helpText('check'), /Exit: 0 as expected, 1 reachability missing or unexpected, 17 a leak/);
  for (const line of helpText('show')
    .split('\n')
    .filter((l) => l.startsWith('  netplumb show ') && !l.includes(';') && !l.includes('|')))
    assert.equal(parseNetplumbArgs(line.trim().split(' ').slice(1)).command, 'show', line);
});
