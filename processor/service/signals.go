package service

import (
	"context"
	"os"
	"os/signal"
	"sync"
	"syscall"
)

// SignalContext is cancelled by the first SIGINT/SIGTERM: the service drains. A second signal calls exit at once
// (capi-connector exits with status 130), without committing unacknowledged work: it will be consumed again, with
// the same event ids.
//
// Each signal is announced through say, or through the function registered later with OnSignal (run logs them as
// JSON entries when its log format is JSON).
func SignalContext(parent context.Context, say func(msg string), exit func()) (context.Context, func()) {
	n := &signalNotice{say: say}
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
			exit()
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

// OnSignal makes the signal handler of ctx (SignalContext) announce signals through say instead.
func OnSignal(ctx context.Context, say func(msg string)) {
	if n, ok := ctx.Value(signalNoticeKey{}).(*signalNotice); ok {
		n.mu.Lock()
		n.say = say
		n.mu.Unlock()
	}
}
