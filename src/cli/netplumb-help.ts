/**
 * `netplumb --help` and `netplumb <subcommand> --help`: what each option does and worked
 * examples, each next to the pipework command it replaces.
 */
import { describeOptions } from './long-options.js';
import { SUBCOMMAND_OPTIONS, SUBCOMMAND_SUMMARY, SUBCOMMANDS, type Subcommand } from './netplumb-options.js';

interface Example {
  what: string;
  netplumb: string;
  /** The pipework command that does the same, or why there is none. */
  pipework: string;
}

const EXAMPLES: Readonly<Partial<Record<Subcommand, readonly Example[]>>> = {
  attach: [
    {
      what: 'Container web1 on OVS bridge ovs0, VLAN 100, with a default route',
      netplumb: 'netplumb attach --bridge ovs0 --container web1 --ip 10.0.0.5/24 --gateway 10.0.0.254 --vlan 100',
      pipework: 'pipework ovs0 web1 10.0.0.5/24@10.0.0.254 @100',
    },
    {
      what: 'A second interface eth2 on a Linux bridge, stable MAC derived from a seed',
      netplumb: 'netplumb attach --bridge br1 --container web1 --ifname eth2 --ip 192.168.1.5/24 --mac U:web1-eth2',
      pipework: 'pipework br1 -i eth2 web1 192.168.1.5/24 U:web1-eth2',
    },
    {
      what: "macvlan on eth0 with DHCP from the host's udhcpc, kept running to renew",
      netplumb: 'netplumb attach --bridge eth0 --container web1 --ip udhcpc-f',
      pipework: 'pipework eth0 web1 udhcpc-f',
    },
    {
      what: 'An OVS trunk port and a jumbo MTU (no pipework equivalent)',
      netplumb: 'netplumb attach --bridge ovs0 --container router1 --trunks 100,200,300 --mtu 9000',
      pipework: '(none: pipework has no trunks and no MTU option)',
    },
    {
      what: 'A port of OVN network vlan100 (on any host of the cluster), its address allocated from the subnet',
      netplumb: 'netplumb attach --network vlan100 --container web1',
      pipework: '(none: ovn-nbctl lsp-add …; ovs-vsctl add-port br-int … external_ids:iface-id=…)',
    },
    {
      what: 'Declared: made again, same MAC and address, each time web1 (re)starts (netplumb serve follows the engine)',
      netplumb: 'netplumb attach --bridge ovs0 --container web1 --ip 10.0.0.5/24 --vlan 100 --persist',
      pipework: 'pipework --persist ovs0 web1 10.0.0.5/24 @100 (plain pipework: run again after every restart)',
    },
    {
      what: 'IPv6 into a named network namespace',
      netplumb: 'netplumb attach --bridge ovs0 --container netns:blue --ip 2001:db8::5/64@2001:db8::1',
      pipework: 'pipework ovs0 -a 6 <container> 2001:db8::5/64@2001:db8::1',
    },
  ],
  detach: [
    {
      what: 'Remove eth1 of web1: the veth, its OVS port, and the default route it replaced',
      netplumb: 'netplumb detach --container web1 --ifname eth1',
      pipework: '(none: pipework cannot undo; its OVS ports outlive the container)',
    },
    {
      what: 'Remove every netplumb interface of web1',
      netplumb: 'netplumb detach --container web1 --all',
      pipework: '(none)',
    },
  ],
  list: [
    {
      what: 'Every attachment, as JSON',
      netplumb: 'netplumb list --json',
      pipework: '(none: pipework records nothing it reads back)',
    },
    {
      what: 'Declared attachments that are not applied now, and why',
      netplumb: 'netplumb list --json | jq \'.declared[] | select(.state != "applied")\'',
      pipework: '(none)',
    },
  ],
  show: [
    {
      what: 'The whole host: bridges, VLANs, ports, containers with addresses; what is broken, and the fix',
      netplumb: 'netplumb show',
      pipework: '(none: pipework records nothing it reads back)',
    },
    {
      what: 'One bridge, one VLAN, or one container (a word is looked up in that order)',
      netplumb: 'netplumb show ovs0 ; netplumb show 100 ; netplumb show web1',
      pipework: '(none)',
    },
    {
      what: "Host-side name, OVS port and addresses of web1's eth1",
      netplumb: 'netplumb show --container web1 --ifname eth1',
      pipework: '(none)',
    },
    {
      what: 'A picture (SVG) and a self-contained page (HTML) of the same',
      netplumb: 'netplumb show --svg host.svg --html host.html',
      pipework: '(none)',
    },
    {
      what: 'For scripts: every issue with its fix (schema: docs/topology.schema.json)',
      netplumb: 'netplumb show --json | jq -r \'.topology.issues[] | "\\(.where): \\(.reason)\\n  fix: \\(.fix)"\'',
      pipework: '(none)',
    },
  ],
  check: [
    {
      what: 'Probe every pair of attachments from inside the guests (ICMP echo, no ping process) against the VLANs',
      netplumb: 'netplumb check',
      pipework: '(none: one ping per pair, by hand)',
    },
    {
      what: "Only VLAN 100's attachments and web1's; wait 5 s for replies",
      netplumb: 'netplumb check 100 web1 --timeout 5',
      pipework: '(none)',
    },
    {
      what: 'In a script: exit 0 matches, 1 missing reachability, 17 a leak across VLANs (schema: docs/check.schema.json)',
      netplumb: "netplumb check --json | jq '.check.summary'",
      pipework: '(none)',
    },
  ],
  gc: [
    {
      what: 'First see what would go and why (nothing is removed)',
      netplumb: 'netplumb gc --dry-run',
      pipework: '(none: pipework leaves OVS ports of dead containers in error)',
    },
    {
      what: 'Then remove it: ports and veths of dead containers, and attaches killed half-way',
      netplumb: 'netplumb gc',
      pipework: '(none)',
    },
    {
      what: 'Right after a crash (no attach running anywhere): do not wait out the 60 s grace period',
      netplumb: 'netplumb gc --grace 0',
      pipework: '(none)',
    },
    {
      what: 'For scripts: one JSON object, {"ok":true,"removed":[…],"kept":[…]}, each entry with its reason',
      netplumb: 'netplumb gc --dry-run --json | jq -r \'.removed[] | "\\(.attachment) \\(.reason): \\(.detail)"\'',
      pipework: '(none)',
    },
  ],
  uplink: [
    {
      what: "The seed's scenario 2, on each host: eth1 as a trunk of every VLAN into ovs0 (created if need be)",
      netplumb: 'netplumb uplink add --bridge ovs0 --nic eth1 --create-bridge',
      pipework: '(none: ifconfig eth1 promisc; ovs-vsctl add-br ovs0; ovs-vsctl add-port ovs0 eth1)',
    },
    {
      what: 'Only VLANs 100 and 200, untagged frames in VLAN 1',
      netplumb: 'netplumb uplink add --bridge ovs0 --nic eth1 --trunks 100,200 --native-vlan 1',
      pipework: '(none: ovs-vsctl add-port ovs0 eth1 trunks=1,100,200 tag=1 vlan_mode=native-untagged)',
    },
    {
      what: 'OVN: the physical network physnet1 reaches ovs0 on this chassis (for networks bridged to a VLAN)',
      netplumb: 'netplumb uplink add --bridge ovs0 --nic eth1 --physnet physnet1',
      pipework: '(none: ovs-vsctl set Open_vSwitch . external_ids:ovn-bridge-mappings=physnet1:ovs0)',
    },
    {
      what: 'Every uplink, then take eth1 out again (set down again if netplumb brought it up)',
      netplumb: 'netplumb uplink list && netplumb uplink del --nic eth1',
      pipework: '(none)',
    },
  ],
  network: [
    {
      what: 'An OVN network across the hosts (Geneve between them); OVN allocates addresses from the subnet',
      netplumb: 'netplumb network create vlan100 --subnet 10.0.0.0/24 --exclude-ips 10.0.0.1..10.0.0.9',
      pipework: '(none: ovn-nbctl ls-add vlan100 -- set Logical_Switch vlan100 other_config:subnet=10.0.0.0/24)',
    },
    {
      what: "Bridged to VLAN 100 of the physical network physnet1: it reaches the hosts' @100 containers",
      netplumb: 'netplumb network create phys100 --subnet 10.0.0.0/24 --vlan 100 --physnet physnet1',
      pipework: '(none: ovn-nbctl lsp-add phys100 ln -- lsp-set-type ln localnet -- set … tag=100 …)',
    },
    {
      what: 'Every network, with how many containers are attached; then delete one (refused while any is)',
      netplumb: 'netplumb network list && netplumb network delete phys100',
      pipework: '(none)',
    },
  ],
  events: [
    {
      what: 'What the daemon changed in the last 10 minutes, and why',
      netplumb: 'netplumb events --since 10m',
      pipework: '(none: pipework keeps no history)',
    },
    {
      what: 'Watch attaches, detaches and gc runs as they happen, as JSON lines',
      netplumb: 'netplumb events --follow --json',
      pipework: '(none)',
    },
    {
      what: 'Everything after event #42',
      netplumb: 'netplumb events --since 42',
      pipework: '(none)',
    },
  ],
  serve: [
    {
      what: 'Serve the API to members of group netplumb',
      netplumb: 'netplumb serve --socket /run/netplumb/api.sock --group netplumb',
      pipework: '(none)',
    },
    {
      what: 'Also collect garbage every 5 minutes, logging each removal',
      netplumb: 'netplumb serve --foreground --gc-interval 300',
      pipework: '(none)',
    },
  ],
};

/** Positional arguments, for the usage line. */
const USAGE_ARGS: Readonly<Partial<Record<Subcommand, string>>> = {
  show: ' [BRIDGE|VLAN|CONTAINER]',
  check: ' [BRIDGE|VLAN|CONTAINER…]',
};

/** What a command's help says beyond its options. */
const NOTES: Readonly<Partial<Record<Subcommand, string>>> = {
  show: [
    'Read-only, in this process (never through the daemon). Exit 0 whatever state the host is in:',
    'an inconsistency (port without veth, veth without port, guest gone or restarted, bridge gone,',
    "interface in error, VLAN changed behind netplumb's back) is shown where it is, with its reason",
    "and the command that fixes it. Other tools' ports and uplinks are shown too, marked foreign.",
  ].join('\n'),
  check: [
    'For every ordered pair of attachments, an ICMP echo goes from inside the source guest (a whole',
    "IP packet on a packet socket, straight to the destination's MAC) and its reply is read there.",
    'Expected: same bridge, same VLAN and same subnet reach each other, nothing else does — from the',
    "records, so a port moved behind netplumb's back shows as a leak. Broken attachments (see",
    'netplumb show) are not probed and do not change the exit status (--strict counts them).',
    'A pair that should answer and does not is probed once more before it counts as missing.',
    'No trace in the guests: the neighbour entries the probes make are removed as it goes.',
    'Exit: 0 as expected, 1 reachability missing or unexpected, 17 a leak across VLANs or bridges.',
  ].join('\n'),
  events: [
    'The daemon (netplumb serve) keeps the history in memory, from its start (event daemon-start) on:',
    'each attach, detach, gc run (and each attachment it removed), uplink add/del and network',
    'create/delete, whether asked through the CLI, pipework, CNI or the API, or done by the daemon',
    'itself (its gc at start and --gc-interval); failures too, with their error. Each event:',
    '#SEQ TIME KIND guest ifname (host side) → bridge vlan/network: result [detail] — why.',
    'The log is bounded (10 000 events, 8 MiB): the oldest go first, and a gap in the numbers',
    'says so. Without a running daemon there is no history: the command fails (exit 10).',
    '--follow starts with the events after --since (none: from now on).',
  ].join('\n'),
};
/** The action words of commands that take one. */
const ACTIONS = { uplink: 'add|del|list', network: 'create NAME|delete NAME|list' } as const;

function renderExamples(examples: readonly Example[]): string {
  return examples.map((e) => `  # ${e.what}\n  ${e.netplumb}\n  #   pipework: ${e.pipework}`).join('\n\n');
}

function overview(): string {
  const width = Math.max(...SUBCOMMANDS.map((s) => s.length)) + 2;
  const lines = SUBCOMMANDS.map((s) => `  ${s.padEnd(width)}${SUBCOMMAND_SUMMARY[s]}`);
  return [
    'Usage: netplumb <command> [options]',
    '',
    'Network plumbing for containers: veth, macvlan, VLANs and Open vSwitch ports, without',
    'forking ip or ovs-vsctl. Every pipework command line also works as `pipework …`.',
    '',
    'Commands:',
    ...lines,
    '',
    'Run `netplumb <command> --help` for its options and examples.',
    '',
    'Example:',
    renderExamples((EXAMPLES.attach ?? []).slice(0, 1)),
    '',
  ].join('\n');
}

/** The help text for a subcommand, or the overview. */
export function helpText(topic?: Subcommand): string {
  if (topic === undefined || topic === 'help') return overview();
  if (topic === 'version') return `Usage: netplumb version\n\n${SUBCOMMAND_SUMMARY.version}.\n`;
  const examples = EXAMPLES[topic];
  return [
    `Usage: netplumb ${topic}${USAGE_ARGS[topic] ?? (Object.hasOwn(ACTIONS, topic) ? ` ${ACTIONS[topic as keyof typeof ACTIONS]}` : '')} [options]`,
    '',
    `${SUBCOMMAND_SUMMARY[topic][0]?.toUpperCase() ?? ''}${SUBCOMMAND_SUMMARY[topic].slice(1)}.`,
    '',
    ...(NOTES[topic] !== undefined ? [NOTES[topic], ''] : []),
    'Options:',
    describeOptions(SUBCOMMAND_OPTIONS[topic]),
    ...(examples !== undefined ? ['', 'Examples:', renderExamples(examples)] : []),
    '',
  ].join('\n');
}
