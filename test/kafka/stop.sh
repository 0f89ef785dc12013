#!/usr/bin/env bash
# Stops the test broker (SIGTERM, up to 20 s, then SIGKILL) and removes its
# temporary directory and the state file. Exits 0 when nothing is running.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"

take_lock

if ! load_state; then
	log "no state file $STATE_FILE: nothing to stop"
	exit 0
fi
if broker_alive "$ST_PID" "$ST_DIR"; then
	terminate "$ST_PID" "$ST_DIR" 20
	log "stopped broker pid $ST_PID"
else
	log "broker pid $ST_PID was not running"
fi
[[ -z $ST_OIDC_PID ]] || stop_oidc "$ST_OIDC_PID" "$ST_DIR"
remove_dir "$ST_DIR"
rm -f "$STATE_FILE"
