package service

import (
	"context"
	"errors"
	"io"

	"github.com/capi-connector/capi-connector/config"
	"github.com/capi-connector/capi-connector/processor/dlq"
)

// ReplayKeys are the settings replay needs (Kafka connection, topics, group, DLQ); it needs no destination or
// decoder.
var ReplayKeys = []string{"kafka.brokers", "kafka.topics", "kafka.group", "kafka.dlq_topic", "kafka.tls", "kafka.sasl", "kafka.client_id"}

// Replay re-produces the dead-lettered records o selects (docs/dlq.md), reaching Kafka with the settings of cfg, as
// run does: the connection, the DLQ topic, the default target topic (the first source topic) and, when o.Group is
// empty, the group <kafka.group>-replay-<selection fingerprint>, so rerunning the same selection resumes it. Progress
// goes to progress when it is a terminal; the summary goes to out, also after an error or an interrupt, saying how
// far it got. Options the caller got wrong are errors wrapping dlq.ErrInvalidOptions, returned before any summary.
func Replay(ctx context.Context, cfg config.Config, o dlq.Options, asJSON bool, out, progress io.Writer) error {
	if err := CheckKeys(cfg, ReplayKeys...); err != nil {
		return err
	}
	kopts, err := KafkaOpts(cfg.Kafka, ToolLogger(progress, cfg.LogLevel, cfg.LogFormat))
	if err != nil {
		return &ConfigError{Err: err}
	}
	o.Kafka, o.DLQTopic, o.DefaultTo = kopts, cfg.Kafka.DLQTopic, cfg.Kafka.Topics[0]
	if o.Group == "" {
		o.Group = cfg.Kafka.Group + "-replay-" + o.Fingerprint()
	}
	line := dlq.NewProgressLine(progress)
	if line != nil {
		o.Progress = line.Print
	}
	r, err := dlq.New(o)
	if err != nil {
		return err
	}
	s, err := r.Run(ctx)
	if err != nil && errors.Is(err, dlq.ErrInvalidOptions) {
		return err
	}
	if line != nil {
		line.End()
	}
	if err == nil || s.Interrupted || s.Scanned > 0 {
		if perr := dlq.WriteSummary(out, s, o.Filter, asJSON, o.MaxReplays); perr != nil && err == nil {
			err = perr
		}
	}
	return err
}
