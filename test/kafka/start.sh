#!/usr/bin/env bash
# Starts (or reuses) a single-node KRaft Kafka broker on 127.0.0.1 for the
# end-to-end tests and prints its bootstrap address as the last line of
# standard output. See README.md for the environment variables.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"

take_lock

if reuse_recorded; then
	if [[ ${CAPI_KAFKA_SECURED:-} == 1 && -z $ST_SECURED ]]; then
		log "warning: CAPI_KAFKA_SECURED=1 but the running broker has no secured listener; run stop.sh first"
	fi
	echo "$ST_BOOTSTRAP"
	exit 0
fi

require_java
ensure_jars
libs="$CACHE_DIR/libs"

dir=$(mktemp -d "${TMPDIR:-/tmp}/${DIR_PREFIX}XXXXXX")
pid=""
OIDC_PID=""
FORMAT_ARGS=()
cleanup_failed_start() {
	[[ -n $pid ]] && kill_hard "$pid" "$dir"
	[[ -n $OIDC_PID ]] && stop_oidc "$OIDC_PID" "$dir"
	remove_dir "$dir"
	rm -f "$STATE_FILE"
}
trap cleanup_failed_start EXIT

port=${CAPI_KAFKA_PORT:-$(pick_free_port)}
controller_port=$(pick_free_port "$port")
port_in_use "$port" && die "port $port on 127.0.0.1 is already in use"
write_config "$dir" "$port" "$controller_port"
secured_env=""
if [[ ${CAPI_KAFKA_SECURED:-} == 1 ]]; then
	setup_secured "$dir" "$port" "$controller_port"
	secured_env="$dir/secured.env"
fi
format_storage "$dir" "$libs" || die "formatting the KRaft storage in $dir failed"

begin=$SECONDS
pid=$(launch_broker "$dir" "$libs")
save_state "$pid" "$dir" "$port" "$controller_port" "$libs" "$secured_env" "$OIDC_PID"
wait_ready "$pid" "$dir" "$port" || die "Kafka $KAFKA_VERSION did not start"
trap - EXIT

log "Kafka $KAFKA_VERSION pid $pid ready in $((SECONDS - begin))s; data in $dir; state in $STATE_FILE"
[[ -z $secured_env ]] || log "secured listener SASL_SSL://127.0.0.1:$SECURED_PORT (SCRAM-SHA-512, OAUTHBEARER via the OIDC server pid $OIDC_PID); settings in $secured_env"
echo "127.0.0.1:$port"
