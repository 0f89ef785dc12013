#!/usr/bin/env bash
# Makes sure prometheus and promtool are on PATH (the alert rule tests and the real-Prometheus end-to-end test
# need both). When one is missing it installs Debian's `prometheus` package, non-interactively, without letting
# the package start its own service (a policy-rc.d answering 101 "action forbidden" while apt runs; with systemd,
# the unit is also stopped and disabled afterwards). Needs root or password-less sudo, and apt-get.
set -euo pipefail

if command -v prometheus >/dev/null 2>&1 && command -v promtool >/dev/null 2>&1; then
	exit 0
fi

if [[ $(id -u) -eq 0 ]]; then
	as_root=()
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
	as_root=(sudo -n)
else
	echo "ensure-prometheus: prometheus/promtool missing and neither root nor password-less sudo: install the Debian package 'prometheus' (apt-get install prometheus) or put both binaries on PATH" >&2
	exit 1
fi
command -v apt-get >/dev/null 2>&1 || {
	echo "ensure-prometheus: prometheus/promtool missing and no apt-get: install Prometheus 2.x (prometheus and promtool) on PATH" >&2
	exit 1
}

policy=/usr/sbin/policy-rc.d
added_policy=
if [[ ! -e $policy ]]; then
	printf '#!/bin/sh\n# written by capi-connector .ci/ensure-prometheus.sh while apt runs\nexit 101\n' | "${as_root[@]}" tee "$policy" >/dev/null
	"${as_root[@]}" chmod 755 "$policy"
	added_policy=1
fi
cleanup() { if [[ -n $added_policy ]]; then "${as_root[@]}" rm -f "$policy"; fi; }
trap cleanup EXIT

echo "ensure-prometheus: installing Debian's prometheus package (prometheus + promtool)" >&2
export DEBIAN_FRONTEND=noninteractive
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 update -qq
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends \
	-o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold prometheus >/dev/null

# The package enables its unit under systemd; the tests start their own servers on free ports.
if [[ -d /run/systemd/system ]] && command -v systemctl >/dev/null 2>&1; then
	"${as_root[@]}" systemctl disable --now prometheus.service >/dev/null 2>&1 || true
fi

command -v prometheus >/dev/null 2>&1 && command -v promtool >/dev/null 2>&1 || {
	echo "ensure-prometheus: the prometheus package installed, but prometheus/promtool are not on PATH" >&2
	exit 1
}
prometheus --version 2>&1 | head -n1 >&2
