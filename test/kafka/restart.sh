#!/usr/bin/env bash
# Starts the broker recorded in the state file again, on the same port and
# data directory (after kill.sh), waits until it answers and prints its
# bootstrap address as the last line of standard output. If it is already
# running and answering, just prints the address.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"

take_lock

load_state || die "no state file $STATE_FILE: run start.sh first"
[[ -f $ST_DIR/config/server.properties ]] || die "broker directory $ST_DIR is gone; run stop.sh and start.sh"

if recorded_runs; then
	log "broker pid $ST_PID is already running"
	echo "$ST_BOOTSTRAP"
	exit 0
fi

require_java
[[ -d $ST_LIBS ]] || die "the Kafka jars $ST_LIBS are gone; run stop.sh and start.sh"
for p in "$ST_PORT" "$ST_CONTROLLER_PORT"; do
	port_in_use "$p" && die "port $p on 127.0.0.1 is taken by another process; cannot restart on the same address"
done

# The startup marker of the previous run must not count as this run's.
[[ -f $ST_DIR/logs/server.log ]] && mv "$ST_DIR/logs/server.log" "$ST_DIR/logs/server.log.$(date +%s)"

begin=$SECONDS
pid=$(launch_broker "$ST_DIR" "$ST_LIBS")
KAFKA_VERSION=$ST_VERSION save_state "$pid" "$ST_DIR" "$ST_PORT" "$ST_CONTROLLER_PORT" "$ST_LIBS" "$ST_SECURED" "$ST_OIDC_PID"
wait_ready "$pid" "$ST_DIR" "$ST_PORT" || die "the broker did not come back (state kept; run stop.sh to clean up)"

log "restarted broker pid $pid in $((SECONDS - begin))s"
echo "$ST_BOOTSTRAP"
