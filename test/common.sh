# shellcheck shell=bash
# Helpers shared by the scripts that start test services (test/kafka/lib.sh,
# test/registry/lib.sh): diagnostics, the lock, the state file, starting a
# detached process, waiting until it answers, stopping it. Sourced, never run.
# The sourcing lib sets
#   LOG_NAME      the prefix of every diagnostic;
#   SERVICE       what the service is called in messages (broker, registry);
#   STATE_FILE    the state file, STATE_KEYS the keys load_state reads from it
#                 (PID, DIR and PORT at least) into ST_<KEY> variables;
#   LOCK_WAIT     seconds to wait for the lock;
#   START_TIMEOUT seconds to wait for a new service to answer, REUSE_TIMEOUT
#                 for one already running;
#   LOG_FILES     the service's logs under DIR/logs, printed when it fails;
#   JAVA, JAVA_FOR (what needs Java 17, for the error message);
#   CACHE_DIR     where the service's jars are kept, outside the repository;
#   DIR_PREFIX    the only directories remove_dir may delete;
# and defines
#   alive PID DIR     true only if PID is the service started from DIR;
#   answers PORT DIR  true when the service answers on PORT (its protocol,
#                     not just an open port);
#   on_discard        stops what goes with a discarded service (ST_* loaded).
# All diagnostics go to stderr so that the callers keep standard output for
# the service's address alone.

log() { printf '%s: %s\n' "$LOG_NAME" "$*" >&2; }
die() {
	log "error: $*"
	exit 1
}

# take_lock serialises the scripts on one state file: go test runs packages in
# parallel, and two suites calling start.sh at once must share one service.
# The lock is an flock on the state file's directory so that no lock file is
# left behind. File descriptor 9 must be closed for every long-lived child, or
# the service would hold the lock for its whole life.
take_lock() {
	if ! command -v flock >/dev/null 2>&1; then
		log "warning: flock not found; concurrent calls are not serialised"
		return 0
	fi
	local d
	d=$(dirname "$STATE_FILE")
	[[ -d $d ]] || die "state directory $d does not exist"
	exec 9<"$d"
	flock -w "$LOCK_WAIT" 9 || die "timed out waiting for the lock on $d"
}

require_java() {
	command -v "$JAVA" >/dev/null 2>&1 ||
		die "java not found (need Java 17 or later on PATH or in JAVA_HOME)"
	local v major
	v=$("$JAVA" -version 2>&1 | awk -F'"' '/version/ {print $2; exit}')
	major=${v%%.*}
	[[ $major == 1 ]] && major=$(cut -d. -f2 <<<"$v")
	[[ $major =~ ^[0-9]+$ ]] || die "cannot read the Java version from '$JAVA -version' (got '$v')"
	((major >= 17)) || die "$JAVA_FOR needs Java 17 or later; $JAVA is $v"
}

# require_maven dies unless mvn is on PATH (what: the first fetch, which
# needs it once into CACHE_DIR) and makes CACHE_DIR.
require_maven() { # what
	command -v mvn >/dev/null 2>&1 || die "mvn not found: Maven is needed once to $1 into $CACHE_DIR"
	mkdir -p "$CACHE_DIR"
}

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# pick_free_port picks a port below the usual ephemeral range (32768-60999), so
# that an outgoing connection is unlikely to take it between a kill and a restart.
pick_free_port() { # [port to avoid]
	local p i
	for ((i = 0; i < 200; i++)); do
		p=$((20000 + RANDOM % 12000))
		[[ $p == "${1:-}" ]] && continue
		port_in_use "$p" || {
			echo "$p"
			return 0
		}
	done
	die "found no free port on 127.0.0.1"
}

remove_dir() { # dir
	local dir=$1
	[[ -n $dir && -d $dir ]] || return 0
	[[ $(basename "$dir") == "$DIR_PREFIX"* ]] ||
		die "refusing to remove $dir: not a $DIR_PREFIX* directory"
	rm -rf -- "$dir"
}

# runs_as is true only if pid runs and its command line contains every pattern
# (without /proc: if it runs), so that a recycled pid is never signalled.
runs_as() { # pid pattern...
	local pid=$1 cmd p
	shift
	[[ $pid =~ ^[0-9]+$ ]] || return 1
	kill -0 "$pid" 2>/dev/null || return 1
	[[ -r /proc/$pid/cmdline ]] || return 0
	cmd=$(tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline") || return 1 # gone meanwhile
	for p in "$@"; do
		[[ $cmd == *"$p"* ]] || return 1
	done
}

# State file: one key=value per line, read by key (STATE_KEYS only), never
# sourced. load_state sets ST_<KEY> for every key, empty when absent.
load_state() {
	[[ -f $STATE_FILE ]] || return 1
	local k v
	for k in "${STATE_KEYS[@]}"; do
		printf -v "ST_$k" '%s' ""
	done
	while IFS='=' read -r k v; do
		if [[ " ${STATE_KEYS[*]} " == *" $k "* ]]; then
			printf -v "ST_$k" '%s' "$v"
		fi
	done <"$STATE_FILE"
	[[ $ST_PID =~ ^[0-9]+$ && $ST_PORT =~ ^[0-9]+$ && -n $ST_DIR ]] ||
		die "state file $STATE_FILE is malformed; inspect it, stop any $SERVICE by hand and delete it"
}

# write_state replaces the state file at once with the key=value lines given.
write_state() { # key=value...
	local tmp="$STATE_FILE.tmp.$$"
	printf '%s\n' "$@" >"$tmp"
	mv "$tmp" "$STATE_FILE"
}

# discard_state removes what the loaded state names: its companions
# (on_discard), its directory and the state file.
discard_state() {
	on_discard
	remove_dir "$ST_DIR"
	rm -f "$STATE_FILE"
}

# recorded_runs is true when the service of the loaded state runs; it then
# waits up to REUSE_TIMEOUT seconds until it answers, and dies if it does not.
recorded_runs() {
	alive "$ST_PID" "$ST_DIR" || return 1
	START_TIMEOUT=$REUSE_TIMEOUT wait_ready "$ST_PID" "$ST_DIR" "$ST_PORT" ||
		die "$SERVICE pid $ST_PID (state $STATE_FILE) runs but does not answer; run stop.sh"
}

# reuse_recorded is true when the state file names a service that runs and
# answers (the caller prints its address); a recorded service that no longer
# runs is discarded.
reuse_recorded() {
	load_state || return 1
	if recorded_runs; then
		log "reusing running $SERVICE pid $ST_PID"
		return 0
	fi
	log "$SERVICE pid $ST_PID from $STATE_FILE is not running; discarding $ST_DIR"
	discard_state
	return 1
}

# stop_recorded stops the service the state file names (SIGTERM, up to grace
# seconds, then SIGKILL) and discards it; nothing recorded is no error.
stop_recorded() { # grace_seconds
	if ! load_state; then
		log "no state file $STATE_FILE: nothing to stop"
		return 0
	fi
	if alive "$ST_PID" "$ST_DIR"; then
		terminate "$ST_PID" "$ST_DIR" "$1"
		log "stopped $SERVICE pid $ST_PID"
	else
		log "$SERVICE pid $ST_PID was not running"
	fi
	discard_state
}

# launch_detached starts a command in dir, detached (own session, stdio to
# logfile, fd 9 closed), and prints its pid: exec keeps the pid, so the pid
# written is the command's own. It fails when no pid is written within 5 s.
launch_detached() { # dir pidfile logfile command...
	local dir=$1 pidfile=$2 out=$3 i
	shift 3
	rm -f "$pidfile"
	(
		cd "$dir" || exit 1
		# shellcheck disable=SC2016 # the inner script expands its own $1.
		setsid bash -c 'echo $$ >"$1"; shift; exec "$@"' _ "$pidfile" "$@" </dev/null >>"$out" 2>&1 9<&- &
	)
	for ((i = 0; i < 50; i++)); do
		[[ -s $pidfile ]] && break
		sleep 0.1
	done
	[[ -s $pidfile ]] || return 1
	cat "$pidfile"
}

log_tail() { # dir
	local f
	for f in "${LOG_FILES[@]}"; do
		f="$1/logs/$f"
		[[ -s $f ]] || continue
		log "---- last lines of $f"
		tail -n 40 "$f" >&2
	done
}

# wait_ready waits until the service answers, the process dies, or
# START_TIMEOUT passes.
wait_ready() { # pid dir port
	local pid=$1 dir=$2 port=$3 deadline=$((SECONDS + START_TIMEOUT))
	while ((SECONDS < deadline)); do
		if ! alive "$pid" "$dir"; then
			log "the $SERVICE (pid $pid) exited during startup"
			log_tail "$dir"
			return 1
		fi
		answers "$port" "$dir" && return 0
		sleep 0.2
	done
	log "the $SERVICE did not answer on 127.0.0.1:$port within ${START_TIMEOUT}s"
	log_tail "$dir"
	return 1
}

# terminate sends SIGTERM, waits up to $3 seconds, then SIGKILL.
terminate() { # pid dir grace_seconds
	local pid=$1 dir=$2 i
	alive "$pid" "$dir" || return 0
	kill -TERM "$pid" 2>/dev/null || true
	for ((i = 0; i < $3 * 10; i++)); do
		if ! alive "$pid" "$dir"; then
			wait_reaped "$pid"
			return 0
		fi
		sleep 0.1
	done
	log "$SERVICE pid $pid still running after ${3}s; sending SIGKILL"
	kill_hard "$pid" "$dir"
}

kill_hard() { # pid dir
	local pid=$1 dir=$2 i
	alive "$pid" "$dir" || return 0
	kill -KILL "$pid" 2>/dev/null || true
	for ((i = 0; i < 100; i++)); do
		if ! alive "$pid" "$dir"; then
			wait_reaped "$pid"
			return 0
		fi
		sleep 0.1
	done
	die "$SERVICE pid $pid survived SIGKILL"
}

# wait_reaped gives init up to 3 s to reap a dead process, so that callers see
# the pid gone; a zombie holds no port or file, so it is not an error.
wait_reaped() { # pid
	local i
	for ((i = 0; i < 30; i++)); do
		kill -0 "$1" 2>/dev/null || return 0
		sleep 0.1
	done
}
