#!/usr/bin/env bash
# Stops the test registry started by start.sh (SIGTERM, up to 15 s, then
# SIGKILL) and removes its temporary directory and the state file. Exits 0
# when nothing is running. Stops nothing it did not start: the state file
# names the pid, which must be a registry JVM run from the state's directory.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"

take_lock

if ! load_state; then
	log "no state file $STATE_FILE: nothing to stop"
	exit 0
fi
if registry_alive "$ST_PID" "$ST_DIR"; then
	terminate "$ST_PID" "$ST_DIR" 15
	log "stopped registry pid $ST_PID"
else
	log "registry pid $ST_PID was not running"
fi
remove_dir "$ST_DIR"
rm -f "$STATE_FILE"
