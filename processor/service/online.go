package service

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/rs/zerolog"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/capi-connector/capi-connector/config"
	"github.com/capi-connector/capi-connector/processor/capi"
	"github.com/capi-connector/capi-connector/schema"
)

// OnlineCheck is one result of CheckOnline.
type OnlineCheck struct {
	Name   string // what was checked: "kafka brokers", "source topic events", "destination shop", …
	OK     bool
	Detail string // what was found; never a secret
	Fix    string // what to do, for a failed check
}

// CheckOnline contacts what the configuration points at, without consuming, producing or sending an event:
// the brokers, the source and DLQ topics (or whether the DLQ topic can be created), the consumer group, each
// destination's token and pixel (a read of the pixel node), and the schema registry when a topic uses it. It is the
// counterpart of Kafka Connect's validate endpoint.
func CheckOnline(ctx context.Context, cfg config.Config, log zerolog.Logger) []OnlineCheck {
	var out []OnlineCheck
	out = append(out, kafkaChecks(ctx, cfg, log)...)
	for _, d := range cfg.Destinations {
		out = append(out, destinationCheck(ctx, cfg, d))
	}
	if c, ok := registryCheck(ctx, cfg.Kafka); ok {
		out = append(out, c)
	}
	return out
}

// ErrOnlineChecks is returned by check-config --online when a check failed: the configuration is valid but the
// world it points at does not match it (exit status 1).
var ErrOnlineChecks = errors.New("online checks failed")

// WriteOnline writes the table: one row per check, ✔ or ✖, and under each failure the fix. It returns
// ErrOnlineChecks when a check failed.
func WriteOnline(w io.Writer, checks []OnlineCheck) error {
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
		return fmt.Errorf("%w: %d of %d", ErrOnlineChecks, failed, len(checks))
	}
	fmt.Fprintf(w, "all %d online checks passed\n", len(checks))
	return nil
}

func kafkaChecks(ctx context.Context, cfg config.Config, log zerolog.Logger) []OnlineCheck {
	k := cfg.Kafka
	kopts, err := KafkaOpts(k, log)
	if err != nil {
		return []OnlineCheck{{Name: "kafka brokers", Detail: err.Error(), Fix: "fix the kafka.tls / kafka.sasl settings named above"}}
	}
	cl, err := kgo.NewClient(kopts...)
	if err != nil {
		return []OnlineCheck{{Name: "kafka brokers", Detail: err.Error(), Fix: "fix the kafka settings named above"}}
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)

	brokers, err := adm.ListBrokers(ctx)
	if err != nil {
		fix := kafkaRefusal(err)
		if fix == "" {
			fix = "check kafka.brokers (" + strings.Join(k.Brokers, ", ") + ") and that they are reachable from here; " +
				"a TLS listener needs kafka.tls.enabled, a SASL one kafka.sasl.*"
		}
		skipped := "not checked: the brokers did not answer"
		out := []OnlineCheck{{Name: "kafka brokers", Detail: errText(err), Fix: fix}}
		for _, t := range k.Topics {
			out = append(out, OnlineCheck{Name: "source topic " + t, Detail: skipped, Fix: "fix the brokers first"})
		}
		return append(out,
			OnlineCheck{Name: "dlq topic " + k.DLQTopic, Detail: skipped, Fix: "fix the brokers first"},
			OnlineCheck{Name: "consumer group " + k.Group, Detail: skipped, Fix: "fix the brokers first"})
	}
	out := []OnlineCheck{{Name: "kafka brokers", OK: true,
		Detail: fmt.Sprintf("%d broker(s) answer: %s", len(brokers), strings.Join(brokerAddrs(brokers), ", "))}}

	details, err := adm.ListTopics(ctx, append(slices.Clone(k.Topics), k.DLQTopic)...)
	if err != nil {
		out = append(out, OnlineCheck{Name: "topics", Detail: errText(err), Fix: kafkaRefusalOr(err, "retry; the brokers did not answer the metadata request")})
	} else {
		partitions := int32(0)
		for _, t := range k.Topics {
			c := OnlineCheck{Name: "source topic " + t}
			td, found := details[t]
			switch {
			case !found || errors.Is(td.Err, kerr.UnknownTopicOrPartition):
				c.Detail = "does not exist"
				c.Fix = fmt.Sprintf("create it, e.g. kafka-topics.sh --bootstrap-server %s --create --topic %s --partitions 6 "+
					"(the connector never creates source topics), or correct kafka.topics", k.Brokers[0], t)
			case td.Err != nil:
				c.Detail = errText(td.Err)
				c.Fix = topicACLFix(td.Err, t, "Read and Describe")
			default:
				c.OK = true
				c.Detail = fmt.Sprintf("%d partitions, replication factor %d", len(td.Partitions), td.Partitions.NumReplicas())
				partitions = max(partitions, int32(len(td.Partitions)))
			}
			out = append(out, c)
		}
		out = append(out, dlqCheck(ctx, adm, k, details[k.DLQTopic], partitions))
	}
	out = append(out, groupCheck(ctx, adm, k))
	return out
}

// dlqCheck: the DLQ topic exists, or it is missing and the connector may and can create it (checked with a
// validate-only CreateTopics, which creates nothing).
func dlqCheck(ctx context.Context, adm *kadm.Client, k config.Kafka, td kadm.TopicDetail, sourcePartitions int32) OnlineCheck {
	c := OnlineCheck{Name: "dlq topic " + k.DLQTopic}
	create := fmt.Sprintf("create topic %s or allow the connector to create it (kafka.dlq_create: true, CAPI_DLQ_CREATE=true)", k.DLQTopic)
	switch {
	case td.Err == nil && td.Topic != "":
		c.OK = true
		c.Detail = fmt.Sprintf("%d partitions, replication factor %d", len(td.Partitions), td.Partitions.NumReplicas())
		return c
	case td.Err != nil && !errors.Is(td.Err, kerr.UnknownTopicOrPartition):
		c.Detail = errText(td.Err)
		c.Fix = topicACLFix(td.Err, k.DLQTopic, "Write and Describe")
		return c
	case !k.DLQCreate:
		c.Detail = "does not exist, and kafka.dlq_create is false"
		c.Fix = create
		return c
	}
	partitions, rf := int32(k.DLQPartitions), int16(k.DLQReplicationFactor)
	if partitions == 0 {
		partitions = sourcePartitions
	}
	if partitions == 0 {
		partitions = -1 // the broker's default
	}
	if rf == 0 {
		rf = -1
	}
	resp, err := adm.ValidateCreateTopics(ctx, partitions, rf, nil, k.DLQTopic)
	if err == nil {
		err = resp.Error()
	}
	if err != nil {
		c.Detail = "does not exist and cannot be created: " + errText(err)
		c.Fix = fmt.Sprintf("create topic %s, or grant the connector's principal Create on it (or on the cluster)", k.DLQTopic)
		return c
	}
	c.OK = true
	c.Detail = "does not exist yet; the connector will create it at start (creation validated by the broker)"
	return c
}

func groupCheck(ctx context.Context, adm *kadm.Client, k config.Kafka) OnlineCheck {
	c := OnlineCheck{Name: "consumer group " + k.Group}
	offsets, err := adm.FetchOffsets(ctx, k.Group)
	if err == nil {
		err = offsets.Error()
	}
	if errors.Is(err, kerr.GroupIDNotFound) { // some brokers say so for a group that never committed
		offsets, err = nil, nil
	}
	if err != nil {
		c.Detail = errText(err)
		c.Fix = kafkaRefusalOr(err, "retry; the group coordinator did not answer")
		if errors.Is(err, kerr.GroupAuthorizationFailed) {
			c.Fix = fmt.Sprintf("grant the connector's principal Read on group %s", k.Group)
		}
		return c
	}
	c.OK = true
	committed := 0
	offsets.Each(func(o kadm.OffsetResponse) {
		if slices.Contains(k.Topics, o.Topic) {
			committed++
		}
	})
	if committed == 0 {
		c.Detail = fmt.Sprintf("allowed; no offsets committed yet (a first run starts at %s)", k.StartOffset)
	} else {
		c.Detail = fmt.Sprintf("allowed; offsets committed on %d source partition(s)", committed)
	}
	return c
}

// destinationCheck reads the destination's pixel node with its token: no event is sent.
func destinationCheck(ctx context.Context, cfg config.Config, d config.Destination) OnlineCheck {
	c := OnlineCheck{Name: "destination " + d.Name}
	client, err := capi.New(graphClient(cfg, d))
	if err != nil {
		c.Detail, c.Fix = err.Error(), "fix the destination's pixel_id, access_token and graph.url"
		return c
	}
	pixel, err := client.CheckPixel(ctx)
	var ge *capi.GraphError
	switch {
	case errors.As(err, &ge):
		c.Detail = ge.Summary()
		c.Fix = ge.Advice()
		if c.Fix == "" {
			c.Fix = "Graph answered a " + ge.Class().String() + " error: try again later"
		}
	case err != nil:
		c.Detail = errText(err)
		c.Fix = "check graph.url (" + cfg.Graph.URL + ") and the network path to it (proxy, firewall)"
	default:
		c.OK = true
		c.Detail = fmt.Sprintf("the token is valid for pixel %s", pixel.ID)
		if pixel.Name != "" {
			c.Detail += fmt.Sprintf(" (%q)", pixel.Name)
		}
		if d.TestEventCode != "" {
			c.Detail += "; test_event_code is set: events go to Test Events"
		}
	}
	return c
}

// registryCheck asks the schema registry for its subjects when a topic is read as avro-confluent.
func registryCheck(ctx context.Context, k config.Kafka) (OnlineCheck, bool) {
	used := k.InputFormat == config.FormatAvroConfluent
	for _, f := range k.InputFormats {
		used = used || f == config.FormatAvroConfluent
	}
	if !used {
		return OnlineCheck{}, false
	}
	r := k.SchemaRegistry
	c := OnlineCheck{Name: "schema registry"}
	rc, err := registryConfig(r)
	var n int
	if err == nil {
		n, err = schema.CheckRegistry(ctx, rc)
	}
	var refused *schema.RegistryCheckError
	switch {
	case errors.As(err, &refused) && (refused.StatusCode == 401 || refused.StatusCode == 403):
		c.Detail = errText(err)
		c.Fix = "the registry refused the credentials: check kafka.schema_registry.username and password (CAPI_SCHEMA_REGISTRY_USERNAME, CAPI_SCHEMA_REGISTRY_PASSWORD)"
		return c, true
	case err != nil:
		c.Detail = errText(err)
		c.Fix = "check kafka.schema_registry.url (" + r.URL + ") and its TLS settings, and that the registry is reachable from here"
		return c, true
	}
	c.OK = true
	c.Detail = fmt.Sprintf("answers at %s (%d subjects)", r.URL, n)
	return c, true
}

func brokerAddrs(bs kadm.BrokerDetails) []string {
	out := make([]string, len(bs))
	for i, b := range bs {
		out[i] = fmt.Sprintf("%s:%d", b.Host, b.Port)
	}
	return out
}

func topicACLFix(err error, topic, ops string) string {
	if errors.Is(err, kerr.TopicAuthorizationFailed) {
		return fmt.Sprintf("grant the connector's principal %s on topic %s", ops, topic)
	}
	return kafkaRefusalOr(err, "retry; the broker answered an error for this topic")
}

func kafkaRefusalOr(err error, fallback string) string {
	if fix := kafkaRefusal(err); fix != "" {
		return fix
	}
	return fallback
}

// errText shortens deadline errors, which otherwise read "context deadline exceeded" with no subject.
func errText(err error) string {
	if errors.Is(err, context.DeadlineExceeded) {
		return "no answer in time"
	}
	return err.Error()
}
