package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sync"
	"syscall"
)

// signalContext is cancelled by the first SIGINT/SIGTERM (graceful drain). A second signal exits at once with
// status 130, without committing unacknowledged work (it will be consumed again, with the same event ids).
//
// Each signal is announced on stderr, or through the function a command registered with onSignal (run logs them
// as JSON entries when its log format is JSON).
func signalContext(parent context.Context, stderr io.Writer) (context.Context, func()) {
	n := &signalNotice{say: func(msg string) { fmt.Fprintln(stderr, "capi-connector: "+msg) }}
	ctx, cancel := context.WithCancel(context.WithValue(parent, signalNoticeKey{}, n))
	ch := make(chan os.Signal, 2)
	signal.Notify(ch, os.Interrupt, syscall.SIGTERM)
	done := make(chan struct{})
	go func() {
		select {
		case s := <-ch:
			n.announce(s.String() + " received, draining (send again to exit immediately)")
			cancel()
		case <-done:
			return
		}
		select {
		case <-ch:
			n.announce("second signal, exiting without draining")
			os.Exit(130)
		case <-done:
		}
	}()
	return ctx, func() {
		signal.Stop(ch)
		close(done)
		cancel()
	}
}

type signalNoticeKey struct{}

// signalNotice is how the signal handler announces a signal; a command may replace it once it has its logger.
type signalNotice struct {
	mu  sync.Mutex
	say func(msg string)
}

func (n *signalNotice) announce(msg string) {
	n.mu.Lock()
	say := n.say
	n.mu.Unlock()
	say(msg)
}

// onSignal makes the signal handler of ctx announce signals through say instead of a plain line on stderr.
func onSignal(ctx context.Context, say func(msg string)) {
	if n, ok := ctx.Value(signalNoticeKey{}).(*signalNotice); ok {
		n.mu.Lock()
		n.say = say
		n.mu.Unlock()
	}
}
