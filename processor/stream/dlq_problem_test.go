package stream

import (
	"errors"
	"fmt"
	"testing"

	"github.com/twmb/franz-go/pkg/kerr"
)

// The DLQ produce errors an operator can fix say how, in the words of the configuration.
func TestDLQProblemSaysWhatToDo(t *testing.T) {
	w := &dlqWriter{topic: "events.dlq"}
	for _, tt := range []struct {
		err  error
		want string
	}{
		{fmt.Errorf("produce: %w", kerr.UnknownTopicOrPartition),
			"dead-letter topic events.dlq does not exist: create topic events.dlq or allow the connector to create it (kafka.dlq_create)"},
		{kerr.TopicAuthorizationFailed, "not authorized to write topic events.dlq: grant WRITE and DESCRIBE on topic events.dlq"},
		{errors.New("broker gone"), "dead-letter write to topic events.dlq failed: broker gone"},
	} {
		if got := w.problem(tt.err, 0); got != tt.want {
			t.Errorf("problem(%v) =\n  %q\nwant\n  %q", tt.err, got, tt.want)
		}
	}
}
