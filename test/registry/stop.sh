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

stop_recorded 15
