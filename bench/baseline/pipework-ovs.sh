#!/bin/sh
# Baseline for `npm run bench -- cli`: the exact `ip` + `ovs-vsctl` command sequence that
# pipework (jpetazzo/pipework master, 9ba97f1, `#!/bin/sh`, `set -e`) runs for
#
#   pipework BRIDGE GUEST ADDR/PREFIX @VLAN
#
# when BRIDGE is an existing Open vSwitch bridge, with a static address, no gateway, no MAC,
# the default container interface eth1 and family -4 — minus the container lookup (the
# cgroup walk and the three `docker inspect`s, ~45 ms each through an engine API): the
# guest is given here by the pid of a process in its network namespace, which is what
# pipework's lookup produces (NSPID). Argument parsing in pipework uses shell parameter
# expansion only (no forks), so nothing is left out there.
#
# Usage: pipework-ovs.sh BRIDGE NSPID ADDR/PREFIX VLAN [OVSDB [CONTAINER_ID [CONTAINER_NAME]]]
#   OVSDB (optional): the ovsdb-server remote, passed as `ovs-vsctl --db=…`; pipework itself
#   uses ovs-vsctl's default (unix:$OVS_RUNDIR/db.sock), which is also what is used when
#   OVSDB is empty. Optional CONTAINER_ID and CONTAINER_NAME fill the external-ids that
#   pipework takes from `docker inspect` (absent for a non-Docker guest, as here).
# Run it on the (emulated) host: `ip netns exec HOST pipework-ovs.sh …`.
set -e

IFNAME=$1
NSPID=$2
IPADDR=$3
VLAN=$4
DB=${5:-}
CONTAINER_IFNAME=eth1     # pipework: CONTAINER_IFNAME=${CONTAINER_IFNAME:-eth1}
FAMILY_FLAG=-4            # pipework: FAMILY_FLAG="-4" unless -a is given
DOCKERCID=${6:-}           # pipework: DOCKERCID=$(docker inspect --format='{{ .ID }}' …)
DOCKERCNAME=${7:-}         # pipework: DOCKERCNAME=$(docker inspect --format='{{ .Name }}' …)

# pipework, first step: "determine type of first argument". The bridge exists, it is not a Linux
# bridge, and `ovs-vsctl list-br` lists it → IFTYPE=bridge, BRTYPE=openvswitch.
[ -d "/sys/class/net/$IFNAME" ]                                   # pipework: if [ -d "/sys/class/net/$IFNAME" ]
[ ! -d "/sys/class/net/$IFNAME/bridge" ]                          # pipework: … elif (not a Linux bridge)
command -v ovs-vsctl >/dev/null 2>&1                              # pipework: installed ovs-vsctl
ovs-vsctl ${DB:+--db=$DB} list-br | grep -q "^${IFNAME}$"         # pipework: ovs-vsctl list-br|grep -q "^${IFNAME}$"

# (pipework's second step, the guest lookup, is left out: NSPID is given.)
# pipework: case "$IPADDR" in */*) : ;; — a prefix is present, no gateway: nothing to run.

# pipework: make the namespace reachable by `ip netns` under the name $NSPID.
[ ! -d /var/run/netns ] && mkdir -p /var/run/netns                # pipework: same line
rm -f "/var/run/netns/$NSPID"                                     # pipework: same line
ln -s "/proc/$NSPID/ns/net" "/var/run/netns/$NSPID"               # pipework: same line

# pipework: [ "$IFTYPE" = bridge ] && [ ! -d "/sys/class/net/$IFNAME" ] && ovs-vsctl add-br — the bridge exists, skipped.

# pipework: MTU copied from the host interface (PR #68).
MTU=$(ip link show "$IFNAME" | awk '$4=="mtu"{print $5}')         # pipework: same line

# pipework: "If it's a bridge, we need to create a veth pair".
LOCAL_IFNAME="v${CONTAINER_IFNAME}pl${NSPID}"                     # pipework: default -l name
GUEST_IFNAME="v${CONTAINER_IFNAME}pg${NSPID}"                     # pipework: temporary guest-side name
if ip link show "$LOCAL_IFNAME" >/dev/null 2>&1; then             # pipework: "Does the link already exist?"
  if ip link show "$LOCAL_IFNAME" up | grep -q "UP"; then         # pipework: "is it in use?"
    echo "Link $LOCAL_IFNAME exists and is up"
    exit 1
  fi
  ip link del "$LOCAL_IFNAME"                                     # pipework: delete it to re-add it
fi
ip link add name "$LOCAL_IFNAME" mtu "$MTU" type veth peer name "$GUEST_IFNAME" mtu "$MTU"   # pipework: same line
if ! ovs-vsctl ${DB:+--db=$DB} list-ports "$IFNAME" | grep -q "^${LOCAL_IFNAME}$"; then      # pipework: skip add-port if listed
  ovs-vsctl ${DB:+--db=$DB} add-port "$IFNAME" "$LOCAL_IFNAME" ${VLAN:+tag="$VLAN"} \
      -- set Interface "$LOCAL_IFNAME" \
          external-ids:pipework.interface="$LOCAL_IFNAME" \
          external-ids:pipework.bridge="$IFNAME" \
          ${DOCKERCID:+external-ids:pipework.containerid="$DOCKERCID"} \
          ${DOCKERCNAME:+external-ids:pipework.containername="$DOCKERCNAME"} \
          ${NSPID:+external-ids:pipework.nspid="$NSPID"} \
          ${VLAN:+external-ids:pipework.vlan="$VLAN"}             # pipework: add-port with tag and external-ids (PR #212); waits for ovs-vswitchd
fi
ip link set "$LOCAL_IFNAME" up                                    # pipework: same line

# pipework: "Otherwise, run normally" — wireless check, then move the guest end into the namespace.
if command -v iw >/dev/null && iw dev | awk '$1=="Interface"{print $2}' | grep "$GUEST_IFNAME" >/dev/null; then   # pipework: wireless NIC? (iw is not installed here: command -v fails)
  iw phy "$(iw dev | grep -B 1 "$GUEST_IFNAME" | grep phy# | sed 's/#//g')" set netns "$NSPID"
else
  ip link set "$GUEST_IFNAME" netns "$NSPID"                      # pipework: same line
fi
ip netns exec "$NSPID" ip link set "$GUEST_IFNAME" name "$CONTAINER_IFNAME"                  # pipework: rename inside the guest
# pipework: [ "$MACADDR" ] && ip netns exec … address — no MAC given: skipped.

# pipework: DHCP_CLIENT is empty (static address): the "" case.
if command -v busybox >/dev/null 2>&1; then                       # pipework: if installed busybox (PR #255)
  eval "$(busybox ipcalc -b "$IPADDR")"                           # pipework: eval $(busybox ipcalc -b $IPADDR) → BROADCAST=
  ip netns exec "$NSPID" ip "$FAMILY_FLAG" addr add "$IPADDR" brd "$BROADCAST" dev "$CONTAINER_IFNAME"   # pipework: same line
else
  ip netns exec "$NSPID" ip "$FAMILY_FLAG" addr add "$IPADDR" dev "$CONTAINER_IFNAME"                    # pipework: same line
fi
# pipework: [ "$GATEWAY" ] && ip route delete default — no gateway: skipped.
ip netns exec "$NSPID" ip "$FAMILY_FLAG" link set "$CONTAINER_IFNAME" up                     # pipework: same line
# pipework: [ "$GATEWAY" ] && route get / route add GW/32 / route replace default — no gateway: skipped.

# pipework: "Give our ARP neighbors a nudge about the new interface".
if command -v arping >/dev/null 2>&1; then                        # pipework: if installed arping
  ip netns exec "$NSPID" arping -c 1 -A -I "$CONTAINER_IFNAME" "${IPADDR%%/*}" >/dev/null 2>&1 || true   # pipework: waits ~1 s for a reply
else
  echo "Warning: arping not found; interface may not be immediately reachable"              # pipework: same line (stdout)
fi

rm -f "/var/run/netns/$NSPID"                                     # pipework: "Remove NSPID to avoid `ip netns` catch it."
