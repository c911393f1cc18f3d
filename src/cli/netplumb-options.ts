/** The `netplumb` subcommands and the long options each one takes. */
import type { OptionTable } from './long-options.js';

const connection = {
  'ovs-db': {
    kind: 'value',
    metavar: 'REMOTE',
    summary: 'OVSDB server: unix:/run/openvswitch/db.sock (default) or tcp:HOST:PORT',
  },
  'docker-host': {
    kind: 'value',
    metavar: 'URL',
    summary: 'container engine API socket: unix:///run/docker.sock (default) or a podman socket',
  },
  'ovn-nb': {
    kind: 'value',
    metavar: 'REMOTE',
    summary: 'OVN northbound database, for OVN networks: $OVN_NB_DB or unix:/run/ovn/ovnnb_db.sock (default)',
  },
} as const satisfies OptionTable;

/** Where declared attachments (`attach --persist`) are kept. */
const state = {
  'state-dir': {
    kind: 'value',
    metavar: 'DIR',
    summary: 'where declared attachments are kept: $NETPLUMB_STATE_DIR or /var/lib/netplumb (default)',
  },
} as const satisfies OptionTable;

/** Commands the daemon can serve: `--no-daemon` acts in this process even when it runs. */
const daemon = {
  'no-daemon': {
    kind: 'flag',
    summary:
      'act in this process even when netplumb serve runs ($NETPLUMB_SOCKET, default /run/netplumb/netplumb.sock)',
  },
} as const satisfies OptionTable;

/** show and check read the host themselves; the flag is accepted like everywhere else. */
const inProcess = {
  'no-daemon': { kind: 'flag', summary: 'accepted for symmetry: this command always acts in this process' },
} as const satisfies OptionTable;

const output = {
  json: { kind: 'flag', summary: 'print the result as one JSON object on stdout' },
  help: { kind: 'flag', summary: 'show this help' },
} as const satisfies OptionTable;

export const ATTACH_OPTIONS = {
  bridge: {
    kind: 'value',
    metavar: 'NAME',
    summary: 'host side: OVS or Linux bridge, parent NIC, or mac:<hostmac> (required, except with --network)',
  },
  network: {
    kind: 'value',
    metavar: 'NAME',
    summary: 'a port of this OVN network (netplumb network create), bound by ovn-controller; --bridge: br-int',
  },
  container: {
    kind: 'value',
    metavar: 'REF',
    summary: 'container name or id, pid:<pid>, netns:<name> or a namespace path (required)',
  },
  ip: {
    kind: 'value',
    metavar: 'ADDR/LEN[@GW]',
    summary:
      'address, or 0/0 (none, the default), dhcp[:opts], udhcpc[-f][:opts], dhclient[-f][:opts], dhcpcd[-f][:opts]',
  },
  gateway: { kind: 'value', metavar: 'ADDR', summary: "replace the container's default route (same as @GW in --ip)" },
  vlan: { kind: 'value', metavar: 'VID', summary: 'access VLAN 1..4094 (OVS tag; 802.1Q subinterface for macvlan)' },
  trunks: { kind: 'value', metavar: 'VID,VID…', summary: 'OVS trunk port carrying these VLANs (instead of --vlan)' },
  mac: {
    kind: 'value',
    metavar: 'MAC',
    summary: "container MAC: aa:bb:cc:dd:ee:ff, or U:<seed> for pipework's stable MAC",
  },
  ifname: { kind: 'value', metavar: 'NAME', summary: 'interface name in the container (default eth1)' },
  'host-ifname': {
    kind: 'value',
    metavar: 'NAME',
    summary: 'host-side interface name (default: generated np…, ≤ 15 bytes)',
  },
  mtu: { kind: 'value', metavar: 'N', summary: "MTU 68..65535 (default: the bridge's or NIC's)" },
  mode: {
    kind: 'value',
    metavar: 'MODE',
    summary: 'ovs, bridge, macvlan, dummy or phys (default: detect, like pipework)',
  },
  'macvlan-mode': { kind: 'value', metavar: 'MODE', summary: 'bridge (default), vepa, private or passthru' },
  'create-bridge': {
    kind: 'flag',
    summary: 'create the bridge if it does not exist (pipework does so for br* and ovs*)',
  },
  force: { kind: 'flag', summary: 'replace an existing attachment of this interface whose settings differ' },
  'allow-host-netns': { kind: 'flag', summary: "allow the target to be the host's own network namespace" },
  'wait-up': { kind: 'value', metavar: 'SECONDS', summary: 'wait until the container interface is up (0..3600)' },
  persist: {
    kind: 'flag',
    summary: 'also declare it: netplumb serve makes it again each time the container (re)starts',
  },
  ...output,
  ...daemon,
  ...connection,
  ...state,
} as const satisfies OptionTable;

export const DETACH_OPTIONS = {
  container: { kind: 'value', metavar: 'REF', summary: 'the container (required); the same forms as for attach' },
  ifname: { kind: 'value', metavar: 'NAME', summary: 'the interface in the container to detach (default eth1)' },
  all: { kind: 'flag', summary: 'detach every netplumb interface of the container' },
  ...output,
  ...daemon,
  ...connection,
  ...state,
} as const satisfies OptionTable;

export const LIST_OPTIONS = {
  container: { kind: 'value', metavar: 'REF', summary: "only this container's attachments" },
  ...output,
  ...daemon,
  ...connection,
  ...state,
} as const satisfies OptionTable;

export const SHOW_OPTIONS = {
  bridge: { kind: 'value', metavar: 'NAME', summary: 'only this bridge' },
  vlan: {
    kind: 'value',
    metavar: 'VID',
    summary: 'only this VLAN (its access ports, the trunks and uplinks carrying it)',
  },
  container: {
    kind: 'value',
    metavar: 'REF',
    summary: "only this guest's attachments: container name or id, netns:<name>, pid:<pid>",
  },
  ifname: { kind: 'value', metavar: 'NAME', summary: 'with --container: only this interface of it' },
  svg: { kind: 'value', metavar: 'FILE', summary: 'also draw the topology as an SVG picture into FILE (- : stdout)' },
  html: {
    kind: 'value',
    metavar: 'FILE',
    summary: 'also write one self-contained HTML page (picture, table, issues) into FILE (- : stdout)',
  },
  ...output,
  ...inProcess,
  ...connection,
} as const satisfies OptionTable;

export const CHECK_OPTIONS = {
  bridge: { kind: 'value', metavar: 'NAME', summary: "only this bridge's attachments" },
  vlan: { kind: 'value', metavar: 'VID', summary: 'only the attachments recorded in this VLAN' },
  container: {
    kind: 'list',
    metavar: 'REF',
    summary: "only this guest's attachments (repeatable): container name or id, netns:<name>",
  },
  timeout: {
    kind: 'value',
    metavar: 'SECONDS',
    summary: 'how long to wait for replies, 1..60 (default 3): a pair without a reply by then is unreachable',
  },
  strict: {
    kind: 'flag',
    summary: 'count pairs of broken attachments (guest gone, port gone …) as differences instead of skipping them',
  },
  ...output,
  ...inProcess,
  ...connection,
} as const satisfies OptionTable;

export const GC_OPTIONS = {
  'dry-run': { kind: 'flag', summary: 'print what would be removed and why, remove nothing' },
  grace: {
    kind: 'value',
    metavar: 'SECONDS',
    summary: 'leave attaches begun less than this long ago alone: they may still be under way (default 60)',
  },
  ...output,
  ...daemon,
  ...connection,
  ...state,
} as const satisfies OptionTable;

export const SERVE_OPTIONS = {
  socket: { kind: 'value', metavar: 'PATH', summary: 'API socket path (absolute)' },
  group: { kind: 'value', metavar: 'NAME', summary: 'group allowed to use the socket (mode 0660)' },
  foreground: {
    kind: 'flag',
    summary: 'log requests (info level) to stderr; default: warnings only ($NETPLUMB_LOG overrides)',
  },
  'gc-interval': {
    kind: 'value',
    metavar: 'SECONDS',
    summary: 'run gc every SECONDS and log what it removed (default 0: never)',
  },
  'gc-grace': {
    kind: 'value',
    metavar: 'SECONDS',
    summary:
      "grace period of the daemon's gc runs (at start, to reconcile, and those of --gc-interval), as gc --grace (default 60)",
  },
  'max-concurrent': {
    kind: 'value',
    metavar: 'N',
    summary: 'requests handled at once; more are answered "busy" (default 1024)',
  },
  help: output.help,
  ...connection,
  ...state,
} as const satisfies OptionTable;

/** `netplumb uplink add|del|list`: which action takes an option is said in its summary, and checked. */
export const UPLINK_OPTIONS = {
  bridge: {
    kind: 'value',
    metavar: 'NAME',
    summary: "the OVS bridge (add: required; del: refuse another bridge's uplink)",
  },
  nic: { kind: 'value', metavar: 'NAME', summary: 'the host NIC (add, del: required)' },
  trunks: {
    kind: 'value',
    metavar: 'VID,VID…',
    summary: 'add: a trunk of only these VLANs (default: a trunk of every VLAN)',
  },
  'native-vlan': { kind: 'value', metavar: 'VID', summary: 'add: untagged frames on the trunk belong to this VLAN' },
  vlan: { kind: 'value', metavar: 'VID', summary: 'add: an access port of this VLAN instead of a trunk' },
  physnet: {
    kind: 'value',
    metavar: 'NAME',
    summary: 'add: OVN physical network NAME reaches the bridge on this chassis (ovn-bridge-mappings)',
  },
  'create-bridge': { kind: 'flag', summary: 'add: create the bridge if it does not exist' },
  force: {
    kind: 'flag',
    summary: "add: accept the NIC of the host's default route; change an uplink's VLANs in place",
  },
  ...output,
  ...daemon,
  'ovs-db': connection['ovs-db'],
} as const satisfies OptionTable;

/** `netplumb network create|delete|list`. */
export const NETWORK_OPTIONS = {
  subnet: {
    kind: 'value',
    metavar: 'CIDR',
    summary: 'create: IPv4 subnet OVN allocates addresses from when an attach gives none (other_config:subnet)',
  },
  'exclude-ips': {
    kind: 'value',
    metavar: 'IP[..IP],…',
    summary: 'create: addresses of the subnet OVN must not allocate (for static ones, gateways)',
  },
  vlan: { kind: 'value', metavar: 'VID', summary: 'create: bridge the network to this VLAN of --physnet' },
  physnet: {
    kind: 'value',
    metavar: 'NAME',
    summary: 'create: the physical network it is bridged to (netplumb uplink add --physnet on each chassis)',
  },
  mtu: {
    kind: 'value',
    metavar: 'N',
    summary: 'create: MTU of its attachments (default 1442 over Geneve, 1500 bridged)',
  },
  force: { kind: 'flag', summary: "delete: even with containers attached (their hosts' gc removes what is left)" },
  ...output,
  ...daemon,
  'ovn-nb': connection['ovn-nb'],
} as const satisfies OptionTable;

/** `netplumb events`: the daemon's history. */
export const EVENTS_OPTIONS = {
  since: {
    kind: 'value',
    metavar: 'SEQ|TIME|DURATION',
    summary:
      'only the events after number SEQ (42), at or after TIME (2026-12-03T07:40:00Z), or of the last DURATION (30s, 10m, 2h, 1d)',
  },
  follow: {
    kind: 'flag',
    summary: 'then print each new event as it happens, until interrupted or the daemon stops (-f)',
  },
  json: { kind: 'flag', summary: 'one JSON object per event, one per line (JSON lines)' },
  help: output.help,
} as const satisfies OptionTable;

export const HELP_OPTIONS = { help: output.help } as const satisfies OptionTable;

export const SUBCOMMAND_OPTIONS = {
  attach: ATTACH_OPTIONS,
  detach: DETACH_OPTIONS,
  list: LIST_OPTIONS,
  show: SHOW_OPTIONS,
  check: CHECK_OPTIONS,
  gc: GC_OPTIONS,
  serve: SERVE_OPTIONS,
  uplink: UPLINK_OPTIONS,
  network: NETWORK_OPTIONS,
  events: EVENTS_OPTIONS,
  help: HELP_OPTIONS,
  version: HELP_OPTIONS,
} as const;

export type Subcommand = keyof typeof SUBCOMMAND_OPTIONS;
export const SUBCOMMANDS = Object.keys(SUBCOMMAND_OPTIONS) as Subcommand[];

export function isSubcommand(word: string): word is Subcommand {
  return Object.hasOwn(SUBCOMMAND_OPTIONS, word);
}

export const SUBCOMMAND_SUMMARY: Readonly<Record<Subcommand, string>> = {
  attach: 'wire a container into a bridge, NIC (macvlan) or dummy interface',
  detach: 'undo attach: remove the interface and its OVS port (routes through it go with it), and its declaration',
  list: "list netplumb attachments (all, or one container's), and the declared ones: applied, waiting or failed",
  show: 'what is wired where: bridges → VLANs → ports → guests, and what is broken (tree, --json, --svg, --html)',
  check: 'probe every pair of attachments from inside the guests; compare with their VLANs (exit 1: missing, 17: leak)',
  gc: 'remove what dead containers and killed attaches left behind (veths, OVS ports, declarations of removed containers)',
  serve:
    'run the daemon that serves the API on a unix socket, and makes declared attachments again on each container start',
  uplink: "a host NIC as a trunk or access port of an OVS bridge, the hosts' physical link: add, del, list",
  network: 'OVN networks (logical switches) across hosts, optionally bridged to a VLAN: create, delete, list',
  events: "the daemon's history: what it attached, detached, collected and changed, who asked, how it ended",
  help: 'show help for a subcommand',
  version: 'print the version',
};
