/**
 * The `netplumb` command line: `netplumb <subcommand> --option value …` → a typed command.
 * `attach` reads its options into an attach plan (../plumb/plan.ts) and gives the same
 * `AttachSpec` as the pipework parser, bound to that plan. Pure: no I/O.
 */
import { invalidArgument } from '../errors.js';
import { guestRefOf } from '../guest/ref.js';
import { parseRemote } from '../ovsdb/remote.js';
import { networkMode } from '../plumb/parse-spec.js';
import { DEFAULT_IFNAME, networkName, parseTrunks, specOf, type AttachPlan, type MacPlan } from '../plumb/plan.js';
import { ATTACH_MODES, MACVLAN_MODES, type AttachMode, type AttachSpec, type GuestRef } from '../plumb/spec.js';
import { gateway, ifName, integer, mtu, vlanId } from '../validate.js';
import { parseGuestWord, parseHostWord, parseIpWord, type IpWord } from './attach-words.js';
import { parseLongOptions, type OptionTable, type ParsedOptions } from './long-options.js';
import {
  isSubcommand,
  SUBCOMMAND_OPTIONS,
  SUBCOMMANDS,
  type Subcommand,
  type ATTACH_OPTIONS,
  type DETACH_OPTIONS,
  type LIST_OPTIONS,
  type SHOW_OPTIONS,
  type CHECK_OPTIONS,
  type GC_OPTIONS,
  type SERVE_OPTIONS,
  type UPLINK_OPTIONS,
  type NETWORK_OPTIONS,
  type EVENTS_OPTIONS,
} from './netplumb-options.js';
import type { EventsCommand } from './events-command.js';
import { parseSinceWord } from '../events/since.js';
import { parseNetworkArgs, type NetworkCommand } from './network-args.js';
import { didYouMean } from './suggest.js';
import type { Selection } from '../topology/scope.js';
import { parseUplinkArgs, type UplinkCommand } from './uplink-args.js';

export interface ConnectionOptions {
  /** OVSDB remote as ovs-vsctl spells it (`unix:/path`, `tcp:host:port`); absent → default resolution. */
  ovsDb?: string;
  /** Path of the container engine's API socket (Docker or podman); absent → the default. */
  dockerSocketPath?: string;
  /** OVN northbound database remote; absent → the default resolution. */
  ovnNb?: string;
  /** Where declared attachments are kept; absent → $NETPLUMB_STATE_DIR, else /var/lib/netplumb. */
  stateDir?: string;
}

interface Common {
  json: boolean;
  connection: ConnectionOptions;
  /** `--no-daemon`: act in this process even when the daemon's socket is there. */
  noDaemon?: true;
}

export type NetplumbCommand =
  | ({ command: 'attach'; spec: AttachSpec /** see `IpWord.dhcpSidecar` */; dhcpSidecar: boolean } & Common)
  | ({ command: 'detach'; guest: GuestRef; target: { ifname: string } | { all: true } } & Common)
  | ({ command: 'list'; guest?: GuestRef } & Common)
  | ({ command: 'show' } & ShowSelection & { svg?: string; html?: string } & Common)
  | ({ command: 'check'; selections: ShowSelection[]; timeoutSeconds?: number; strict?: true } & Common)
  | ({ command: 'gc'; dryRun: boolean; graceSeconds?: number } & Common)
  | ({ command: 'uplink' } & UplinkCommand & Common)
  | ({ command: 'network' } & NetworkCommand & Common)
  | ({ command: 'events' } & EventsCommand)
  | {
      command: 'serve';
      socketPath?: string;
      group?: string;
      foreground?: true;
      gcIntervalSeconds?: number;
      gcGraceSeconds?: number;
      maxConcurrent?: number;
      connection: ConnectionOptions;
    }
  | { command: 'help'; topic?: Subcommand }
  | { command: 'version' };

/** What `show` and `check` look at (see topology/scope.ts): all, a bridge, a VLAN, a guest, or a word naming one. */
export type ShowSelection = Selection;

export { DEFAULT_IFNAME } from '../plumb/plan.js';
const WAIT_UP_MAX_SECONDS = 3600;
/** gc grace periods and intervals: up to a week. */
const GC_MAX_SECONDS = 7 * 24 * 3600;

export function parseNetplumbArgs(argv: readonly string[]): NetplumbCommand {
  const [word, ...rest] = argv;
  if (word === undefined || word === '--help' || word === '-h') return { command: 'help' };
  if (word === '--version' || word === '-V') return { command: 'version' };
  if (!isSubcommand(word)) {
    const hint = word.startsWith('-') ? '' : ' (pipework syntax? run it as `pipework …`)';
    throw invalidArgument(
      'command',
      `unknown command ${JSON.stringify(word)}${didYouMean(word, SUBCOMMANDS) || hint}; commands: ${SUBCOMMANDS.join(', ')}`,
    );
  }
  // `-f`, as tail and journalctl spell it, for `events --follow` only.
  const words = word === 'events' ? rest.map((a) => (a === '-f' ? '--follow' : a)) : rest;
  const { options, positionals } = parseLongOptions(words, SUBCOMMAND_OPTIONS[word], `netplumb ${word}`);
  if (options.help === true) return { command: 'help', topic: word };
  if (word === 'help') return parseHelp(positionals);
  if (word === 'show') return parseShow(options as ParsedOptions<typeof SHOW_OPTIONS>, positionals);
  if (word === 'check') return parseCheck(options as ParsedOptions<typeof CHECK_OPTIONS>, positionals);
  if (word === 'uplink') {
    const o = options as ParsedOptions<typeof UPLINK_OPTIONS>;
    return { command: 'uplink', ...parseUplinkArgs(positionals, o), ...common(o) };
  }
  if (word === 'network') {
    const o = options as ParsedOptions<typeof NETWORK_OPTIONS>;
    return { command: 'network', ...parseNetworkArgs(positionals, o), ...common(o) };
  }
  refusePositionals(word, positionals);
  switch (word) {
    case 'events':
      return parseEvents(options as ParsedOptions<typeof EVENTS_OPTIONS>);
    case 'attach':
      return parseAttach(options as ParsedOptions<typeof ATTACH_OPTIONS>);
    case 'detach':
      return parseDetach(options as ParsedOptions<typeof DETACH_OPTIONS>);
    case 'list':
      return parseList(options as ParsedOptions<typeof LIST_OPTIONS>);
    case 'gc':
      return parseGc(options as ParsedOptions<typeof GC_OPTIONS>);
    case 'serve':
      return parseServe(options as ParsedOptions<typeof SERVE_OPTIONS>);
    case 'version':
      return { command: 'version' };
  }
}

function parseEvents(o: ParsedOptions<typeof EVENTS_OPTIONS>): NetplumbCommand {
  return {
    command: 'events',
    follow: o.follow === true,
    json: o.json === true,
    ...(o.since !== undefined ? { since: parseSinceWord(o.since) } : {}),
  };
}

function parseHelp(positionals: readonly string[]): NetplumbCommand {
  const [topic, ...extra] = positionals;
  if (topic === undefined) return { command: 'help' };
  if (extra.length > 0)
    throw invalidArgument('argv', `help takes one command name, got ${JSON.stringify(positionals.join(' '))}`);
  if (!isSubcommand(topic))
    throw invalidArgument(
      'command',
      `no help for ${JSON.stringify(topic)}${didYouMean(topic, SUBCOMMANDS)}; commands: ${SUBCOMMANDS.join(', ')}`,
    );
  return { command: 'help', topic };
}

function refusePositionals(word: Subcommand, positionals: readonly string[]): void {
  const first = positionals[0];
  if (first === undefined) return;
  const optionNames = Object.keys(SUBCOMMAND_OPTIONS[word] as OptionTable);
  const asOption = optionNames.includes(first) ? ` (did you mean --${first}?)` : '';
  throw invalidArgument(
    'argv',
    `unexpected argument ${JSON.stringify(first)}: netplumb ${word} takes only --options${asOption}; the pipework syntax is \`pipework …\``,
  );
}

function required(name: string, value: string | undefined): string {
  if (value === undefined) throw invalidArgument(name, `--${name} is required`);
  return value;
}

function oneOf<T extends string>(name: string, value: string, allowed: readonly T[]): T {
  const found = allowed.find((a) => a === value);
  if (found === undefined)
    throw invalidArgument(
      name,
      `${JSON.stringify(value)} is not one of ${allowed.join(', ')}${didYouMean(value, allowed)}`,
    );
  return found;
}

function absolutePath(field: string, text: string): string {
  if (!text.startsWith('/') || text.includes('\0') || text.length > 4096)
    throw invalidArgument(field, `${JSON.stringify(text)}: expected an absolute path`);
  return text;
}

/** A DOCKER_HOST-style socket: `unix:///path` or `unix:/path`; returns the path. */
function dockerSocketPath(text: string): string {
  const m = /^unix:(?:\/\/)?(\/[^\0]*)$/.exec(text);
  if (m === null || m[1] === undefined)
    throw invalidArgument(
      'docker-host',
      `${JSON.stringify(text)}: expected unix:///path/to/socket (the API is only spoken over a unix socket)`,
    );
  if (Buffer.byteLength(m[1]) > 107)
    throw invalidArgument('docker-host', `${JSON.stringify(text)}: socket path longer than 107 bytes`);
  return m[1];
}

function connectionOptions(o: {
  'ovs-db'?: string;
  'docker-host'?: string;
  'ovn-nb'?: string;
  'state-dir'?: string;
}): ConnectionOptions {
  return {
    ...(o['state-dir'] !== undefined ? { stateDir: absolutePath('state-dir', o['state-dir']) } : {}),
    ...(o['ovs-db'] !== undefined ? { ovsDb: parseRemote(o['ovs-db']).text } : {}),
    ...(o['ovn-nb'] !== undefined ? { ovnNb: parseRemote(o['ovn-nb']).text } : {}),
    ...(o['docker-host'] !== undefined ? { dockerSocketPath: dockerSocketPath(o['docker-host']) } : {}),
  };
}

function common(o: {
  json?: true;
  'ovs-db'?: string;
  'docker-host'?: string;
  'ovn-nb'?: string;
  'no-daemon'?: true;
}): Common {
  return {
    json: o.json === true,
    connection: connectionOptions(o),
    ...(o['no-daemon'] === true ? { noDaemon: true as const } : {}),
  };
}

/** `--ip` and `--gateway` together: one gateway, of the address's family, not the address. */
function withGateway(ipWord: IpWord, gatewayText: string | undefined): IpWord {
  if (gatewayText === undefined) return ipWord;
  const { ip } = ipWord;
  if (ip.kind !== 'static')
    throw invalidArgument(
      'gateway',
      `--gateway needs a static --ip address (got ${ip.kind === 'dhcp' ? 'DHCP' : 'no address'})`,
    );
  if (ip.gateway !== undefined)
    throw invalidArgument('gateway', `given twice: in --ip (@${ip.gateway.address}) and as --gateway`);
  return { ...ipWord, ip: { ...ip, gateway: gateway('gateway', gatewayText, ip.address) } };
}

/**
 * Options of one mode only: given with another --mode they are refused here, before
 * anything is done (with a detected mode, the mode refuses them when attaching).
 */
const ONE_MODE_OPTIONS = {
  trunks: { only: 'ovs', why: 'trunk ports need an OVS bridge' },
  'macvlan-mode': { only: 'macvlan', why: 'only for macvlan attachments' },
} as const satisfies Record<string, { only: AttachMode; why: string }>;

function refuseWithOtherMode(option: keyof typeof ONE_MODE_OPTIONS, asked: AttachMode | undefined): void {
  const { only, why } = ONE_MODE_OPTIONS[option];
  if (asked !== undefined && asked !== only) throw invalidArgument(option, `${why}, not --mode ${asked}`);
}

function parseAttach(o: ParsedOptions<typeof ATTACH_OPTIONS>): NetplumbCommand {
  const network = o.network !== undefined ? networkName('network', o.network) : undefined;
  // A network's port is on this chassis's integration bridge: br-int unless named.
  const host = parseHostWord('bridge', network !== undefined ? (o.bridge ?? 'br-int') : required('bridge', o.bridge));
  const guest = parseGuestWord('container', required('container', o.container));
  const mode = networkMode(o.mode !== undefined ? oneOf('mode', o.mode, ATTACH_MODES) : undefined, network);
  const ipWord = withGateway(
    o.ip !== undefined ? parseIpWord('ip', o.ip) : { ip: { kind: 'none' }, dhcpSidecar: false },
    o.gateway,
  );
  if (o.vlan !== undefined && o.trunks !== undefined)
    throw invalidArgument('trunks', '--vlan (an access port) and --trunks (a trunk port) exclude each other');
  const trunks = o.trunks !== undefined ? parseTrunks(o.trunks.split(','), () => 'trunks') : undefined;
  if (trunks !== undefined) refuseWithOtherMode('trunks', mode);
  const macvlanMode =
    o['macvlan-mode'] !== undefined ? oneOf('macvlan-mode', o['macvlan-mode'], MACVLAN_MODES) : undefined;
  if (macvlanMode !== undefined) refuseWithOtherMode('macvlan-mode', mode);
  const plan: AttachPlan = {
    host,
    ...(mode !== undefined ? { mode } : {}),
    guest,
    ...(o.ifname !== undefined ? { ifname: ifName('ifname', o.ifname) } : {}),
    ...(o['host-ifname'] !== undefined ? { hostIfname: ifName('host-ifname', o['host-ifname']) } : {}),
    ip: ipWord.ip,
    ...(o.mac !== undefined ? { mac: parseMac('mac', o.mac) } : {}),
    ...(network !== undefined ? { network } : {}),
    ...(o.vlan !== undefined ? { vlan: vlanId('vlan', o.vlan) } : {}),
    ...(trunks !== undefined ? { trunks } : {}),
    ...(o.mtu !== undefined ? { mtu: mtu('mtu', o.mtu) } : {}),
    ...(macvlanMode !== undefined ? { macvlanMode } : {}),
    ...(o['create-bridge'] === true ? { createBridge: true } : {}),
    ...(o.force === true ? { force: true } : {}),
    ...(o['allow-host-netns'] === true ? { allowHostNetns: true } : {}),
    ...(o['wait-up'] !== undefined
      ? { waitUpMs: integer('wait-up', o['wait-up'], 0, WAIT_UP_MAX_SECONDS) * 1000 }
      : {}),
    ...(o.persist === true ? { persist: true } : {}),
  };
  return { command: 'attach', spec: specOf(plan), dhcpSidecar: ipWord.dhcpSidecar, ...common(o) };
}

/** A guest named by --container, in the form a detach or list request carries it. */
function guestOption(value: string): GuestRef {
  return guestRefOf(parseGuestWord('container', value));
}

function parseDetach(o: ParsedOptions<typeof DETACH_OPTIONS>): NetplumbCommand {
  const guest = guestOption(required('container', o.container));
  if (o.all === true && o.ifname !== undefined) throw invalidArgument('all', '--all and --ifname exclude each other');
  const target = o.all === true ? { all: true as const } : { ifname: ifName('ifname', o.ifname ?? DEFAULT_IFNAME) };
  return { command: 'detach', guest, target, ...common(o) };
}

function parseList(o: ParsedOptions<typeof LIST_OPTIONS>): NetplumbCommand {
  return {
    command: 'list',
    ...(o.container !== undefined ? { guest: guestOption(o.container) } : {}),
    ...common(o),
  };
}

/** A positional word of show/check: a bridge, VLAN or container name, told apart at run time. */
function selectionWord(field: string, w: string): string {
  if (w.length === 0 || w.length > 255 || !/^[A-Za-z0-9_.:/-]+$/.test(w) || w.includes('..'))
    throw invalidArgument(field, `${JSON.stringify(w)} is not a bridge, VLAN or container name`);
  return w;
}

function parseSelection(
  o: { bridge?: string; vlan?: string; container?: string; ifname?: string },
  word: string | undefined,
): ShowSelection {
  const given = [o.bridge, o.vlan, o.container, word].filter((x) => x !== undefined).length;
  if (given > 1)
    throw invalidArgument(
      'argv',
      'give one of BRIDGE|VLAN|CONTAINER, --bridge, --vlan or --container: what to show is one bridge, one VLAN or one guest',
    );
  if (o.ifname !== undefined && o.container === undefined && word === undefined)
    throw invalidArgument('ifname', '--ifname needs the guest: --container REF');
  return {
    ...(o.bridge !== undefined ? { bridge: ifName('bridge', o.bridge) } : {}),
    ...(o.vlan !== undefined ? { vlan: vlanId('vlan', o.vlan) } : {}),
    ...(o.container !== undefined ? { guest: parseGuestWord('container', o.container) } : {}),
    ...(word !== undefined ? { word: selectionWord('argv', word) } : {}),
    ...(o.ifname !== undefined ? { ifname: ifName('ifname', o.ifname) } : {}),
  };
}

function outputFile<F extends 'svg' | 'html'>(field: F, path: string | undefined): Partial<Record<F, string>> {
  if (path === undefined) return {};
  if (path === '' || path.includes('\0')) throw invalidArgument(field, 'expected a file name, or - for stdout');
  return { [field]: path } as Partial<Record<F, string>>;
}

function parseShow(o: ParsedOptions<typeof SHOW_OPTIONS>, positionals: readonly string[]): NetplumbCommand {
  if (positionals.length > 1)
    throw invalidArgument('argv', `netplumb show takes one BRIDGE, VLAN or CONTAINER, got ${positionals.length}`);
  if (o.svg !== undefined && o.svg === o.html) throw invalidArgument('html', '--svg and --html name the same file');
  return {
    command: 'show',
    ...parseSelection(o, positionals[0]),
    ...outputFile('svg', o.svg),
    ...outputFile('html', o.html),
    ...common(o),
  };
}

/** check's deadline for replies, in seconds. */
const CHECK_TIMEOUT_MAX_SECONDS = 60;

function parseCheck(o: ParsedOptions<typeof CHECK_OPTIONS>, positionals: readonly string[]): NetplumbCommand {
  const selections: ShowSelection[] = [
    ...positionals.map((w) => ({ word: selectionWord('argv', w) })),
    ...(o.container ?? []).map((c) => ({ guest: parseGuestWord('container', c) })),
    ...(o.bridge !== undefined ? [{ bridge: ifName('bridge', o.bridge) }] : []),
    ...(o.vlan !== undefined ? [{ vlan: vlanId('vlan', o.vlan) }] : []),
  ];
  return {
    command: 'check',
    selections,
    ...(o.timeout !== undefined ? { timeoutSeconds: integer('timeout', o.timeout, 1, CHECK_TIMEOUT_MAX_SECONDS) } : {}),
    ...(o.strict === true ? { strict: true as const } : {}),
    ...common(o),
  };
}

function parseGc(o: ParsedOptions<typeof GC_OPTIONS>): NetplumbCommand {
  const grace = o.grace === undefined ? undefined : integer('grace', o.grace, 0, GC_MAX_SECONDS);
  return {
    command: 'gc',
    dryRun: o['dry-run'] === true,
    ...(grace !== undefined ? { graceSeconds: grace } : {}),
    ...common(o),
  };
}

const GROUP_NAME = /^[a-z_][a-z0-9_-]{0,31}$/;
/** Each request in flight holds a few descriptors (the guest's namespace and sockets). */
const MAX_CONCURRENT_LIMIT = 16384;

function parseServe(o: ParsedOptions<typeof SERVE_OPTIONS>): NetplumbCommand {
  const socket = o.socket;
  if (socket !== undefined && (!socket.startsWith('/') || socket.includes('\0') || Buffer.byteLength(socket) > 107)) {
    throw invalidArgument('socket', `${JSON.stringify(socket)}: expected an absolute path of at most 107 bytes`);
  }
  if (o.group !== undefined && !GROUP_NAME.test(o.group))
    throw invalidArgument('group', `${JSON.stringify(o.group)} is not a group name`);
  const interval = o['gc-interval'] === undefined ? 0 : integer('gc-interval', o['gc-interval'], 0, GC_MAX_SECONDS);
  const grace = o['gc-grace'] === undefined ? undefined : integer('gc-grace', o['gc-grace'], 0, GC_MAX_SECONDS);
  const maxConcurrent =
    o['max-concurrent'] === undefined
      ? undefined
      : integer('max-concurrent', o['max-concurrent'], 1, MAX_CONCURRENT_LIMIT);
  return {
    command: 'serve',
    ...(maxConcurrent !== undefined ? { maxConcurrent } : {}),
    ...(interval > 0 ? { gcIntervalSeconds: interval } : {}),
    ...(grace !== undefined ? { gcGraceSeconds: grace } : {}),
    ...(socket !== undefined ? { socketPath: socket } : {}),
    ...(o.group !== undefined ? { group: o.group } : {}),
    ...(o.foreground === true ? { foreground: true as const } : {}),
    connection: connectionOptions(o),
  };
}

/**
 * `../plumb/mac.js` loads node:crypto (for `U:` MACs), ~10 ms of start-up: required only
 * when a MAC is actually given, so `--help`, `--version` and attaches without one skip it here.
 */
function parseMac(field: string, text: string): MacPlan {
  return (require('../plumb/mac.js') as typeof import('../plumb/mac.js')).parseMac(field, text);
}
