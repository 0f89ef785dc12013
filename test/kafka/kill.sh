#!/usr/bin/env bash
# Kills the test broker with SIGKILL, keeping its data directory and the state
# file so that restart.sh can bring the same broker back. For fault tests.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"

take_lock

load_state || die "no state file $STATE_FILE: no broker to kill"
if alive "$ST_PID" "$ST_DIR"; then
	kill_hard "$ST_PID" "$ST_DIR"
	log "killed broker pid $ST_PID (data kept in $ST_DIR)"
else
	log "broker pid $ST_PID was not running"
fi
