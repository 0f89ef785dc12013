#!/usr/bin/env bash
# Stops the test broker (SIGTERM, up to 20 s, then SIGKILL) and removes its
# temporary directory and the state file. Exits 0 when nothing is running.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"

take_lock

stop_recorded 20
