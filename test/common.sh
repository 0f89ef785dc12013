# shellcheck shell=bash
# Helpers shared by the scripts that start test services (test/kafka/lib.sh,
# test/registry/lib.sh). Sourced, never run. The sourcing lib sets
# LOG_NAME (the prefix of every diagnostic), STATE_FILE, LOCK_WAIT (seconds),
# JAVA, JAVA_FOR (what needs Java 17, for the error message) and DIR_PREFIX
# (the only directories remove_dir may delete). All diagnostics go to stderr
# so that the callers keep standard output for the service's address alone.

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
