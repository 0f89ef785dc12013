package stream

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/capi-connector/capi-connector/processor/health"
)

// The monitor turns what franz-go retries silently into readiness checks (processor/health) and a log line per
// interval: brokers unreachable, a source topic missing or not readable, the dead-letter topic missing (created when
// allowed), not describable or not writable. It never creates a source topic: a typo in kafka.topics must not
// become a new, empty topic that the connector waits on for ever. The dead-letter topic's own checks (exists,
// created when allowed, its max.message.bytes) are in dlq.go, next to the writer they feed.

// brokerFailures is how many health intervals in a row every broker must fail before brokers_reachable fails: one
// lost ping is a blip, two are an outage (with the 5 s default, not ready within 10–15 s of losing every broker).
const brokerFailures = 2

// monitorFrom checks brokers and topics every HealthInterval until ctx ends, failures being the failed pings in a
// row so far; the DLQ writer asks for a check at once when the DLQ topic went missing.
func (r *Runner) monitorFrom(ctx context.Context, failures int) {
	t := time.NewTicker(r.opts.HealthInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-r.dlq.topicCheck:
		}
		failures = r.checkOnce(ctx, failures)
	}
}

// checkOnce runs one round of checks and returns the number of failed pings in a row.
func (r *Runner) checkOnce(ctx context.Context, failures int) int {
	if r.shuttingDown.Load() {
		return failures // the clients are closing: a failed ping now says nothing about the brokers
	}
	pctx, cancel := context.WithTimeout(ctx, r.opts.HealthInterval)
	err := r.cl.Ping(pctx)
	cancel()
	if ctx.Err() != nil || errors.Is(err, kgo.ErrClientClosed) || r.shuttingDown.Load() {
		return failures
	}
	if err != nil {
		failures++
		if failures >= brokerFailures {
			reason := fmt.Sprintf("brokers unreachable: %s: %v", strings.Join(r.opts.Brokers, ","), err)
			r.opts.Health.Set(health.BrokersReachable, false, reason)
			r.logs.do("brokers", func(suppressed int) {
				r.log.Error().Err(err).Strs("brokers", r.opts.Brokers).Int("similar_suppressed", suppressed).
					Msg("kafka brokers unreachable: consumption and commits wait until one answers")
			})
		}
		r.dlq.refresh()
		return failures
	}
	if failures >= brokerFailures {
		r.log.Info().Msg("kafka brokers reachable again")
	}
	if c := r.opts.Credentials; c != nil {
		if err := c.Health(); err != nil {
			r.opts.Health.Set(health.BrokersReachable, false, "kafka credentials: "+err.Error())
			r.checkTopics(ctx)
			r.dlq.refresh()
			return 0
		}
	}
	r.opts.Health.Set(health.BrokersReachable, true, "")
	r.checkTopics(ctx)
	r.dlq.refresh()
	return 0
}

// checkTopics checks that the source topics exist and can be described, and that the DLQ topic exists (creating
// it when allowed) and what its max.message.bytes is.
func (r *Runner) checkTopics(ctx context.Context) {
	adm := kadm.NewClient(r.cl)
	tctx, cancel := context.WithTimeout(ctx, r.opts.HealthInterval)
	defer cancel()
	details, err := adm.ListTopics(tctx, r.opts.Topics...)
	if err != nil {
		return // the next round retries; brokers_reachable covers an outage
	}
	var problems []string
	partitions := int32(0)
	for _, t := range r.opts.Topics {
		d, ok := details[t]
		switch {
		case !ok || errors.Is(d.Err, kerr.UnknownTopicOrPartition):
			problems = append(problems, "source topic "+t+" does not exist (the connector never creates it): create it or correct kafka.topics")
		case isAuthorization(d.Err):
			problems = append(problems, "not authorized to describe topic "+t+": grant READ and DESCRIBE on topic "+t)
		case d.Err != nil:
			problems = append(problems, "source topic "+t+": "+d.Err.Error())
		default:
			partitions = max(partitions, int32(len(d.Partitions)))
		}
	}
	if p := r.readProblem(); p != "" {
		problems = append(problems, p)
	}
	reason := strings.Join(problems, "; ")
	r.opts.Health.Set(health.SourceTopics, reason == "", reason)
	if reason != "" {
		r.logs.do("source_topics", func(suppressed int) {
			r.log.Warn().Strs("topics", r.opts.Topics).Int("similar_suppressed", suppressed).Msg(reason)
		})
	}
	r.checkDLQTopic(tctx, adm, partitions)
}

// readRefused records a fetch or group error the brokers answered with a refusal, for the checks (the poll loop
// logs it, once per interval).
func (r *Runner) readRefused(topic string, err error) {
	var p string
	switch {
	case errors.Is(err, kerr.GroupAuthorizationFailed):
		p = "not authorized to read group " + r.opts.Group + ": grant READ on group " + r.opts.Group
		r.opts.Health.Set(health.GroupJoined, false, p)
		return
	case errors.Is(err, kerr.TopicAuthorizationFailed) && topic != "":
		p = "not authorized to read topic " + topic + ": grant READ and DESCRIBE on topic " + topic
		r.opts.Health.Set(health.SourceTopics, false, p)
	default:
		return
	}
	r.readMu.Lock()
	r.readProblemText, r.readProblemAt = p, time.Now()
	r.readMu.Unlock()
}

// readProblem is the last read refusal seen within two health intervals, or "".
func (r *Runner) readProblem() string {
	r.readMu.Lock()
	defer r.readMu.Unlock()
	if time.Since(r.readProblemAt) > 2*r.opts.HealthInterval {
		return ""
	}
	return r.readProblemText
}
