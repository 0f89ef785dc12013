package main

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/capi-connector/capi-connector/processor/service"
)

// errOnlineChecks is returned by check-config --online when a check failed: the configuration is valid but the
// world it points at does not match it (exit status 1).
var errOnlineChecks = errors.New("online checks failed")

// printOnline writes the table: one row per check, ✔ or ✖, and under each failure the fix. It returns
// errOnlineChecks when a check failed.
func printOnline(w io.Writer, checks []service.OnlineCheck) error {
	width := 0
	for _, c := range checks {
		width = max(width, utf8.RuneCountInString(c.Name))
	}
	failed := 0
	for _, c := range checks {
		mark := "✔"
		if !c.OK {
			mark = "✖"
			failed++
		}
		fmt.Fprintf(w, "%s %s%s  %s\n", mark, c.Name, strings.Repeat(" ", width-utf8.RuneCountInString(c.Name)), c.Detail)
		if !c.OK && c.Fix != "" {
			fmt.Fprintf(w, "  %s  fix: %s\n", strings.Repeat(" ", width), c.Fix)
		}
	}
	if failed > 0 {
		return fmt.Errorf("%w: %d of %d", errOnlineChecks, failed, len(checks))
	}
	fmt.Fprintf(w, "all %d online checks passed\n", len(checks))
	return nil
}

// onlineTimeout bounds check-config --online as a whole.
const onlineTimeout = 20 * time.Second
