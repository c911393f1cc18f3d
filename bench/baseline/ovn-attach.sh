#!/bin/sh
# Baseline for `npm run bench -- ovn`: what a script runs to put one container on an OVN
# logical switch on this chassis, until ovn-controller bound it — the veth (its peer made
# directly in the guest), the guest's MAC and address, the logical switch port with its
# addresses and port security, the OVS port on br-int named for it, and the wait for
# `ovn-installed`:
#
# Usage: ovn-attach.sh HOSTNS OVSDB NBDB SWITCH GUESTNS HOSTIF PORT MAC IP/PREFIX
set -e
HOSTNS=$1 OVSDB=$2 NBDB=$3 SWITCH=$4 GUEST=$5 HOSTIF=$6 PORT=$7 MAC=$8 ADDR=$9
IP=${ADDR%/*}

ip -n "$HOSTNS" link add "$HOSTIF" type veth peer name eth1 netns "$GUEST"
ip -n "$HOSTNS" link set "$HOSTIF" up
ip -n "$GUEST" link set eth1 address "$MAC"
ip -n "$GUEST" addr add "$ADDR" dev eth1
ip -n "$GUEST" link set eth1 up
ovn-nbctl --db="$NBDB" lsp-add "$SWITCH" "$PORT" \
  -- lsp-set-addresses "$PORT" "$MAC $IP" -- lsp-set-port-security "$PORT" "$MAC $IP"
ovs-vsctl --db="$OVSDB" add-port br-int "$HOSTIF" -- set Interface "$HOSTIF" "external_ids:iface-id=$PORT"
ovs-vsctl --db="$OVSDB" --timeout=30 wait-until Interface "$HOSTIF" 'external_ids:ovn-installed="true"'
