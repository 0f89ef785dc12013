#!/usr/bin/env bash
# Starts (or reuses) an Apicurio Registry with in-memory storage on 127.0.0.1
# for the end-to-end tests and prints the base URL of its Confluent-compatible
# API (http://127.0.0.1:PORT/apis/ccompat/v7) as the last line of standard
# output. The first run assembles the registry from Maven Central into a cache
# outside the repository. See README.md for the environment variables.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"

take_lock

if reuse_recorded; then
	echo "$ST_URL"
	exit 0
fi

require_java
ensure_app

dir=$(mktemp -d "${TMPDIR:-/tmp}/${DIR_PREFIX}XXXXXX")
pid=""
cleanup_failed_start() {
	[[ -n $pid ]] && terminate "$pid" "$dir" 5
	remove_dir "$dir"
	rm -f "$STATE_FILE"
}
trap cleanup_failed_start EXIT

port=${CAPI_REGISTRY_PORT:-$(pick_free_port)}
port_in_use "$port" && die "port $port on 127.0.0.1 is already in use"

begin=$SECONDS
pid=$(launch_registry "$dir" "$port")
save_state "$pid" "$dir" "$port"
wait_ready "$pid" "$dir" "$port" || die "Apicurio Registry $APICURIO_VERSION did not start"
trap - EXIT

log "Apicurio Registry $APICURIO_VERSION pid $pid ready in $((SECONDS - begin))s; logs in $dir/logs; state in $STATE_FILE"
echo "http://127.0.0.1:$port$API_PATH"
