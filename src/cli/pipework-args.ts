/**
 * The `pipework` command line, parsed exactly as the pipework script reads it
 * (docs/pipework.md §1): positional, no getopt, `-i`/`-l`/`-a` in that order right after
 * the host interface, `--wait`/`--direct-phys` only as the first word. Where pipework
 * would silently ignore or misread a word (a misplaced option, a fifth argument, a second
 * `@`), netplumb refuses it instead. Pure: no I/O.
 */
import { invalidArgument, type ErrorDetails, type NetplumbError } from '../errors.js';
import { guestRefOf } from '../guest/ref.js';
import { DEFAULT_IFNAME, specOf, withPersist, type AttachPlan, type MacPlan } from '../plumb/plan.js';
import type { AttachSpec, GuestRef } from '../plumb/spec.js';
import { ifName, vlanId, type IpFamily, type VlanId } from '../validate.js';
import { parseGuestWord, parseHostWord, parseIpWord } from './attach-words.js';

export type PassthroughTool = 'route' | 'rule' | 'tc';
const PASSTHROUGH_TOOLS: readonly string[] = ['route', 'rule', 'tc'] satisfies readonly PassthroughTool[];

export type PipeworkCommand =
  /**
   * Wire the guest to the host interface. `spec` is bound to its plan (../plumb/plan.ts);
   * `spec.ifname` is absent when `-i` was not given: the engine picks `eth1`.
   */
  | {
      kind: 'attach';
      spec: AttachSpec;
      /** Plain `dhcp`: run udhcpc in a busybox sidecar container, not on the host. */
      dhcpSidecar: boolean;
    }
  /** `pipework route|rule|tc <guest> <args…>`: `ip route|ip rule|tc <args…>` inside the guest. */
  | { kind: 'passthrough'; tool: PassthroughTool; guest: GuestRef; args: string[] }
  /** `pipework --wait [-i if]`, run inside the container: wait for the interface. */
  | { kind: 'wait'; ifname: string }
  /** `-h` / `--help` (pipework prints its usage for these too). */
  | { kind: 'help' };

/** pipework's usage text, verbatim. */
export const PIPEWORK_USAGE = `pipework <hostinterface> [-i containerinterface] [-l localinterfacename] [-a addressfamily] <guest> <ipaddr>/<subnet>[@default_gateway] [macaddr][@vlan]
pipework <hostinterface> [-i containerinterface] [-l localinterfacename] <guest> dhcp [macaddr][@vlan]
pipework mac:<hostinterface_macaddress> [-i ...] [-l ...] [-a ...] <guest> <ipaddr>/<subnet>[@default_gateway] [macaddr][@vlan]
pipework mac:<hostinterface_macaddress> [-i ...] [-l ...] <guest> dhcp [macaddr][@vlan]
pipework route <guest> <route_command>
pipework rule <guest> <rule_command>
pipework tc <guest> <tc_command>
pipework --wait [-i containerinterface]
`;

/** The usage text printed for `pipework` without arguments, `-h`, or a syntax error. */
export function usage(): string {
  return `Syntax:\n${PIPEWORK_USAGE}\nThis pipework is netplumb; --persist as the first argument also declares the attachment, made again on each (re)start of the container (netplumb serve); for detach, list, trunks, MTU and JSON output see \`netplumb --help\`.\n`;
}

export const DEFAULT_WAIT_IFNAME = DEFAULT_IFNAME;
const WAIT = '--wait';
const DIRECT_PHYS = '--direct-phys';
/** netplumb's own: declare the attachment, made again on each start of the container. */
const PERSIST = '--persist';

/** A syntax error: the CLI prints `usage()` after the message (`details.showUsage`). */
function syntaxError(field: string, reason: string, extra: ErrorDetails = {}): NetplumbError {
  return invalidArgument(field, reason, { showUsage: true, ...extra });
}

export function parsePipeworkArgs(argv: readonly string[]): PipeworkCommand {
  const first = argv[0];
  if (first === undefined) throw syntaxError('argv', 'missing arguments');
  if (first === '-h' || first === '--help') return { kind: 'help' };
  if (first === WAIT) return parseWait(argv.slice(1));
  if (first === PERSIST) {
    const cmd = parsePipeworkArgs(argv.slice(1));
    if (cmd.kind !== 'attach')
      throw syntaxError(
        'argv',
        `${PERSIST} declares an attachment: pipework ${PERSIST} <hostinterface> … <guest> <ip>`,
      );
    return { ...cmd, spec: withPersist(cmd.spec) };
  }
  const directPhys = first === DIRECT_PHYS;
  const rest = directPhys ? argv.slice(1) : argv;
  const host = rest[0];
  if (host === undefined)
    throw syntaxError(
      'hostInterface',
      `${DIRECT_PHYS} needs a host NIC: pipework ${DIRECT_PHYS} <nic> <guest> <ipaddr>/<subnet>`,
    );
  if (host === WAIT || host === DIRECT_PHYS)
    throw syntaxError(
      'argv',
      `${host} must be the first argument, and only one of ${WAIT} and ${DIRECT_PHYS} is allowed`,
    );
  if (host.startsWith('-'))
    throw syntaxError(
      'argv',
      `unknown option ${JSON.stringify(host)}: the first argument is <hostinterface>, ${WAIT} or ${DIRECT_PHYS}`,
    );
  if (PASSTHROUGH_TOOLS.includes(host)) {
    if (directPhys) throw syntaxError('hostInterface', `${DIRECT_PHYS} needs a host NIC, not "${host}"`);
    return parsePassthrough(host as PassthroughTool, rest.slice(1));
  }
  return parseAttach(rest, directPhys);
}

function parseWait(rest: readonly string[]): PipeworkCommand {
  if (rest.length === 0) return { kind: 'wait', ifname: DEFAULT_WAIT_IFNAME };
  if (rest[0] === '-i' && rest.length === 2) return { kind: 'wait', ifname: ifName('containerIfName', rest[1]) };
  throw syntaxError('argv', `${WAIT} takes only [-i containerinterface], got ${JSON.stringify(rest.join(' '))}`);
}

function parsePassthrough(tool: PassthroughTool, rest: readonly string[]): PipeworkCommand {
  const [guestWord, ...args] = rest;
  if (guestWord === undefined)
    throw syntaxError('guest', `missing <guest>: pipework ${tool} <guest> <${tool}_command>`);
  const guest = guestRefOf(parseGuestWord('guest', guestWord));
  if (args.length === 0)
    throw syntaxError('argv', `missing <${tool}_command>: pipework ${tool} <guest> <${tool}_command>`);
  return { kind: 'passthrough', tool, guest, args };
}

const OPTION_ORDER = ['-i', '-l', '-a'] as const;
type PositionalOption = (typeof OPTION_ORDER)[number];

/** Read `-i`, `-l`, `-a` in that order (each optional), as pipework's `[ "$2" = "-i" ]` chain does. */
function readOptions(rest: readonly string[]): { values: Partial<Record<PositionalOption, string>>; next: number } {
  const values: Partial<Record<PositionalOption, string>> = {};
  let i = 1;
  for (const flag of OPTION_ORDER) {
    if (rest[i] !== flag) continue;
    const value = rest[i + 1];
    if (value === undefined) throw syntaxError('argv', `${flag} needs a value`);
    values[flag] = value;
    i += 2;
  }
  const word = rest[i];
  if (word?.startsWith('-')) {
    if (word === WAIT || word === DIRECT_PHYS) throw syntaxError('argv', `${word} must be the first argument`);
    if ((OPTION_ORDER as readonly string[]).includes(word)) {
      throw syntaxError(
        'argv',
        `${word} is out of place: -i, -l and -a come right after <hostinterface>, in that order, each at most once`,
      );
    }
    throw syntaxError(
      'argv',
      `unknown option ${JSON.stringify(word)}: pipework takes -i, -l and -a (in that order) after <hostinterface>`,
    );
  }
  return { values, next: i };
}

function parseFamily(text: string): IpFamily {
  if (text === '4' || text === '6') return Number(text) as IpFamily;
  throw syntaxError('addressFamily', `-a takes 4 or 6, got ${JSON.stringify(text)}`);
}

/**
 * `../plumb/mac.js` loads node:crypto (for `U:` MACs), ~10 ms of start-up: required only
 * when a MAC is actually given, so `--help`, `--version` and attaches without one skip it here.
 */
function parseMac(field: string, text: string): MacPlan {
  return (require('../plumb/mac.js') as typeof import('../plumb/mac.js')).parseMac(field, text);
}

/** The 4th argument, `[macaddr][@vlan]`. */
function parseMacVlanWord(text: string): { mac?: MacPlan; vlan?: VlanId } {
  const [macText = '', vlanText, ...extra] = text.split('@');
  if (extra.length > 0)
    throw invalidArgument('vlan', `${JSON.stringify(text)} has more than one "@"; expected [macaddr][@vlan]`);
  const out: { mac?: MacPlan; vlan?: VlanId } = {};
  if (macText !== '') out.mac = parseMac('mac', macText);
  if (vlanText !== undefined) out.vlan = vlanId('vlan', vlanText);
  return out;
}

function parseAttach(rest: readonly string[], directPhys: boolean): PipeworkCommand {
  const host = parseHostWord('hostInterface', rest[0] ?? '');
  const { values, next } = readOptions(rest);
  const [guestWord, ipText, macVlanText, ...extra] = rest.slice(next);
  for (const w of [ipText, macVlanText, ...extra]) {
    if (w === WAIT || w === DIRECT_PHYS) throw syntaxError('argv', `${w} must be the first argument`);
  }
  if (guestWord === undefined) throw syntaxError('guest', 'missing <guest>');
  if (ipText === undefined) throw syntaxError('ip', 'missing <ipaddr>/<subnet>[@default_gateway] or dhcp');
  if (extra.length > 0)
    throw syntaxError('argv', `unexpected argument(s) after [macaddr][@vlan]: ${JSON.stringify(extra.join(' '))}`);

  const family = values['-a'] !== undefined ? parseFamily(values['-a']) : undefined;
  const guest = parseGuestWord('guest', guestWord);
  const { ip, dhcpSidecar } = parseIpWord('ip', ipText, family);
  const macVlan = macVlanText === undefined ? {} : parseMacVlanWord(macVlanText);

  const plan: AttachPlan = {
    host,
    ...(directPhys ? { mode: 'phys' as const } : {}),
    guest,
    ...(values['-i'] !== undefined ? { ifname: ifName('containerIfName', values['-i']) } : {}),
    ...(values['-l'] !== undefined ? { hostIfname: ifName('hostIfName', values['-l']) } : {}),
    ...(family !== undefined ? { family } : {}),
    ip,
    ...(macVlan.mac !== undefined ? { mac: macVlan.mac } : {}),
    ...(macVlan.vlan !== undefined ? { vlan: macVlan.vlan } : {}),
  };
  return { kind: 'attach', spec: specOf(plan), dhcpSidecar };
}
