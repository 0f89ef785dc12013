// Package e2e holds the end-to-end suites. This file checks docker-compose.yml, the Dockerfile and .dockerignore
// against the code without a Docker engine: what compose would run must be a binary, subcommands, flags and a
// configuration that the code accepts, with addresses that point at the right services.
package e2e

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/capi-connector/capi-connector/config"
	"github.com/capi-connector/capi-connector/schema/sample"
	"github.com/capi-connector/capi-connector/test/proctest"
)

// repoDir is the module root, relative to this package's directory (where go test runs).
const repoDir = ".."

// composeFile is the subset of the compose specification the checks need.
type composeFile struct {
	Services map[string]composeService `yaml:"services"`
}

type composeService struct {
	Image           string                      `yaml:"image"`
	PullPolicy      string                      `yaml:"pull_policy"`
	Profiles        []string                    `yaml:"profiles"`
	Volumes         []string                    `yaml:"volumes"`
	Build           *composeBuild               `yaml:"build"`
	Entrypoint      []string                    `yaml:"entrypoint"`
	Command         []string                    `yaml:"command"`
	Environment     composeEnv                  `yaml:"environment"`
	Ports           []string                    `yaml:"ports"`
	DependsOn       map[string]composeDependsOn `yaml:"depends_on"`
	Restart         string                      `yaml:"restart"`
	StopGracePeriod string                      `yaml:"stop_grace_period"`
	Healthcheck     *composeHealthcheck         `yaml:"healthcheck"`
}

type composeHealthcheck struct {
	Test        []string `yaml:"test"`
	Disable     bool     `yaml:"disable"`
	Interval    string   `yaml:"interval"`
	Timeout     string   `yaml:"timeout"`
	Retries     int      `yaml:"retries"`
	StartPeriod string   `yaml:"start_period"`
}

type composeBuild struct {
	Context    string            `yaml:"context"`
	Dockerfile string            `yaml:"dockerfile"`
	Args       map[string]string `yaml:"args"`
}

// capiServices are the services that run the capi-connector image.
var capiServices = []string{"graph-simulator", "connector", "producer"}

// capiBinary is where the Dockerfile puts the binary.
const capiBinary = "/usr/local/bin/capi-connector"

// usesCapiImage reports whether the service runs the image the connector service builds.
func usesCapiImage(c composeFile, s composeService) bool {
	conn, ok := c.Services["connector"]
	return s.Build != nil || ok && conn.Image != "" && s.Image == conn.Image
}

type composeDependsOn struct {
	Condition string `yaml:"condition"`
}

// composeEnv accepts both compose forms: a mapping, or a list of NAME=value.
type composeEnv map[string]string

func (e *composeEnv) UnmarshalYAML(n *yaml.Node) error {
	*e = composeEnv{}
	switch n.Kind {
	case yaml.MappingNode:
		for i := 0; i < len(n.Content); i += 2 {
			(*e)[n.Content[i].Value] = n.Content[i+1].Value
		}
	case yaml.SequenceNode:
		for _, item := range n.Content {
			k, v, _ := strings.Cut(item.Value, "=")
			(*e)[k] = v
		}
	default:
		return fmt.Errorf("line %d: environment must be a mapping or a list", n.Line)
	}
	return nil
}

func loadCompose(t *testing.T) composeFile {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(repoDir, "docker-compose.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var c composeFile
	if err := yaml.Unmarshal(data, &c); err != nil {
		t.Fatalf("docker-compose.yml: %v", err)
	}
	return c
}

func composeSvc(t *testing.T, c composeFile, name string) composeService {
	t.Helper()
	s, ok := c.Services[name]
	if !ok {
		t.Fatalf("docker-compose.yml has no service %q", name)
	}
	return s
}

var interpolationRE = regexp.MustCompile(`\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?-)([^}]*))?\}`)

// interpolate applies compose's variable substitution with shell as the invoking environment: ${VAR},
// ${VAR:-default} (default when unset or empty), ${VAR-default} (default when unset), $$ (a literal $).
func composeInterpolate(s string, shell map[string]string) string {
	return interpolationRE.ReplaceAllStringFunc(s, func(m string) string {
		if m == "$$" {
			return "$"
		}
		sub := interpolationRE.FindStringSubmatch(m)
		v, set := shell[sub[1]]
		switch {
		case sub[2] == ":-" && v == "":
			return sub[3]
		case sub[2] == "-" && !set:
			return sub[3]
		}
		return v
	})
}

// composeEnvOf is the environment compose gives the service's container, interpolated against shell.
func composeEnvOf(s composeService, shell map[string]string) map[string]string {
	out := make(map[string]string, len(s.Environment))
	for k, v := range s.Environment {
		out[k] = composeInterpolate(v, shell)
	}
	return out
}

func mapLookup(vars map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) {
		v, ok := vars[k]
		return v, ok
	}
}

// argValue returns the value following --name (or -name) in args, or "".
func argValue(args []string, name string) string {
	for i, a := range args {
		if (a == "--"+name || a == "-"+name) && i+1 < len(args) {
			return args[i+1]
		}
		if v, ok := strings.CutPrefix(a, "--"+name+"="); ok {
			return v
		}
	}
	return ""
}

func splitAddr(t *testing.T, addr string) (string, string) {
	t.Helper()
	h, p, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatalf("%q: %v", addr, err)
	}
	return h, p
}

// listener returns host and port of the named listener in a Kafka listeners list ("NAME://host:port,...").
func kafkaListener(t *testing.T, list, name string) (string, string) {
	t.Helper()
	for l := range strings.SplitSeq(list, ",") {
		if addr, ok := strings.CutPrefix(strings.TrimSpace(l), name+"://"); ok {
			return splitAddr(t, addr)
		}
	}
	t.Fatalf("no %s listener in %q", name, list)
	return "", ""
}

// publishedPorts returns the container side of published ports ("host:container" or "container").
func publishedPorts(ports []string) []string {
	var out []string
	for _, p := range ports {
		p, _, _ = strings.Cut(p, "/")
		out = append(out, p[strings.LastIndex(p, ":")+1:])
	}
	return out
}

func TestComposeServices(t *testing.T) {
	c := loadCompose(t)
	// One image, built once: only the connector builds it, under a name the other capi services run.
	conn := composeSvc(t, c, "connector")
	if b := conn.Build; b == nil || path.Clean(b.Context) != "." || (b.Dockerfile != "" && b.Dockerfile != "Dockerfile") {
		t.Errorf("connector: build = %+v, want the repository's Dockerfile", b)
	}
	if conn.Image == "" {
		t.Error("connector: no image name: the other services cannot share what it builds")
	}
	for name, s := range c.Services {
		if name != "connector" && s.Build != nil {
			t.Errorf("%s builds its own image: every capi service shares the connector's (built once)", name)
		}
	}
	for _, name := range capiServices {
		s := composeSvc(t, c, name)
		if s.Image != conn.Image {
			t.Errorf("%s: image %q, want the connector's %q", name, s.Image, conn.Image)
		}
		if name != "connector" && s.PullPolicy != "never" {
			t.Errorf("%s: pull_policy %q, want never (the image is local, built by the connector service)", name, s.PullPolicy)
		}
		if len(s.Entrypoint) > 0 {
			t.Errorf("%s: entrypoint %q overrides the image's binary", name, s.Entrypoint)
		}
		if len(s.Command) == 0 {
			t.Errorf("%s: no command (a subcommand of capi-connector)", name)
		}
	}
	// The broker is the version the end-to-end suite runs against.
	wantKafka := "apache/kafka:" + testKafkaVersion(t)
	for _, name := range []string{"kafka", "kafka-init"} {
		if img := composeSvc(t, c, name).Image; img != wantKafka {
			t.Errorf("%s: image %q, want %s (the test suite's Kafka, test/kafka/lib.sh)", name, img, wantKafka)
		}
	}
	if want := []string{"run"}; !slices.Equal(conn.Command, want) {
		t.Errorf("connector command = %q, want %q", conn.Command, want)
	}
	// No restart loop on a configuration error (exit 3): a capped on-failure, never always/unless-stopped.
	for _, name := range capiServices {
		r := composeSvc(t, c, name).Restart
		if name == "producer" {
			if r != "no" {
				t.Errorf("producer restart = %q, want no (a one-shot job)", r)
			}
			continue
		}
		n, ok := strings.CutPrefix(r, "on-failure:")
		if max, err := strconv.Atoi(n); !ok || err != nil || max < 1 || max > 10 {
			t.Errorf("%s restart = %q, want on-failure:N with 1 ≤ N ≤ 10 (a configuration error must not restart forever)", name, r)
		}
	}

	deps := []struct{ from, to, condition string }{
		{"kafka-init", "kafka", "service_healthy"},
		{"connector", "kafka-init", "service_completed_successfully"},
		{"connector", "graph-simulator", "service_healthy"},
		{"producer", "kafka-init", "service_completed_successfully"},
	}
	for _, d := range deps {
		if got := composeSvc(t, c, d.from).DependsOn[d.to].Condition; got != d.condition {
			t.Errorf("%s depends_on %s: condition %q, want %q", d.from, d.to, got, d.condition)
		}
	}
	hc := composeSvc(t, c, "kafka").Healthcheck
	if hc == nil || !strings.Contains(strings.Join(hc.Test, " "), "/opt/kafka/bin/kafka-broker-api-versions.sh") {
		t.Errorf("kafka healthcheck = %+v, want kafka-broker-api-versions.sh (kafka-init waits for it)", hc)
	}
	// The long-running capi services are checked by the binary itself (no shell or curl in the image): the
	// connector's readiness on its metrics address, the simulator's liveness on its listen port.
	for _, tc := range []struct {
		name, wantPort string
		live           bool
	}{
		{"connector", metricsPortOf(t, c), false},
		{"graph-simulator", listenPortOf(t, c), true},
	} {
		hc := composeSvc(t, c, tc.name).Healthcheck
		if hc == nil || hc.Disable || len(hc.Test) < 3 || hc.Test[0] != "CMD" || hc.Test[1] != capiBinary || hc.Test[2] != "healthcheck" {
			t.Errorf("%s healthcheck = %+v, want [CMD %s healthcheck …]", tc.name, hc, capiBinary)
			continue
		}
		args := hc.Test[3:]
		if slices.Contains(args, "--live") != tc.live {
			t.Errorf("%s healthcheck %q: --live %v, want %v", tc.name, args, !tc.live, tc.live)
		}
		port := tc.wantPort
		if a := argValue(args, "addr"); a != "" {
			_, port = splitAddr(t, a)
		} else if tc.name == "connector" {
			port = metricsPortOf(t, c) // from CAPI_METRICS_ADDR, as healthcheck reads it
		} else {
			port = ""
		}
		if port != tc.wantPort {
			t.Errorf("%s healthcheck checks port %q, the service listens on %s", tc.name, port, tc.wantPort)
		}
		for _, d := range []string{hc.Interval, hc.Timeout} {
			if _, err := time.ParseDuration(d); err != nil {
				t.Errorf("%s healthcheck: duration %q: %v", tc.name, d, err)
			}
		}
	}
	if hc := composeSvc(t, c, "producer").Healthcheck; hc == nil || !hc.Disable {
		t.Error("producer: the image's health check (the connector's /readyz) must be disabled for the one-shot job")
	}
}

// metricsPortOf is the port of the connector's CAPI_METRICS_ADDR.
func metricsPortOf(t *testing.T, c composeFile) string {
	t.Helper()
	_, p := splitAddr(t, composeEnvOf(composeSvc(t, c, "connector"), nil)["CAPI_METRICS_ADDR"])
	return p
}

// listenPortOf is the port of the simulator's --listen.
func listenPortOf(t *testing.T, c composeFile) string {
	t.Helper()
	_, p := splitAddr(t, argValue(composeSvc(t, c, "graph-simulator").Command, "listen"))
	return p
}

var kafkaVersionRE = regexp.MustCompile(`(?m)^KAFKA_VERSION="\$\{CAPI_KAFKA_VERSION:-([0-9.]+)\}"`)

// testKafkaVersion is the Kafka version test/kafka/lib.sh starts for the real-broker suite.
func testKafkaVersion(t *testing.T) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(repoDir, "test", "kafka", "lib.sh"))
	if err != nil {
		t.Fatal(err)
	}
	m := kafkaVersionRE.FindSubmatch(data)
	if m == nil {
		t.Fatal("test/kafka/lib.sh: no KAFKA_VERSION default")
	}
	return string(m[1])
}

// The monitoring profile runs Prometheus with the repository's alert rules, scraping the connector's metrics port.
func TestComposeMonitoringProfile(t *testing.T) {
	c := loadCompose(t)
	p := composeSvc(t, c, "prometheus")
	if !slices.Equal(p.Profiles, []string{"monitoring"}) {
		t.Errorf("prometheus profiles %q, want [monitoring] (optional, not started by a plain up)", p.Profiles)
	}
	mounts := map[string]string{} // container path → host path
	for _, v := range p.Volumes {
		f := strings.Split(v, ":")
		if len(f) < 2 {
			t.Fatalf("prometheus volume %q", v)
		}
		mounts[f[1]] = path.Clean(f[0])
	}
	cfgPath := argValue(p.Command, "config.file")
	host, ok := mounts[cfgPath]
	if !ok {
		t.Fatalf("--config.file %q is not a mounted file (volumes %q)", cfgPath, p.Volumes)
	}
	data, err := os.ReadFile(filepath.Join(repoDir, host))
	if err != nil {
		t.Fatal(err)
	}
	var pc struct {
		RuleFiles     []string `yaml:"rule_files"`
		ScrapeConfigs []struct {
			StaticConfigs []struct {
				Targets []string `yaml:"targets"`
			} `yaml:"static_configs"`
		} `yaml:"scrape_configs"`
	}
	if err := yaml.Unmarshal(data, &pc); err != nil {
		t.Fatalf("%s: %v", host, err)
	}
	var rules []string
	for _, rf := range pc.RuleFiles {
		in := rf
		if !path.IsAbs(in) {
			in = path.Join(path.Dir(cfgPath), rf)
		}
		rules = append(rules, mounts[in])
	}
	if !slices.Contains(rules, "deploy/prometheus/alerts.yml") {
		t.Errorf("rule_files %q resolve to %q in the container: want deploy/prometheus/alerts.yml mounted", pc.RuleFiles, rules)
	}
	want := "connector:" + metricsPortOf(t, c)
	found := false
	for _, sc := range pc.ScrapeConfigs {
		for _, st := range sc.StaticConfigs {
			found = found || slices.Contains(st.Targets, want)
		}
	}
	if !found {
		t.Errorf("%s does not scrape %s", host, want)
	}
}

// Every CAPI_* variable a service sets must be one the connector reads: a typo would be silently ignored.
func TestComposeEnvKnown(t *testing.T) {
	c := loadCompose(t)
	for name, s := range c.Services {
		for k := range s.Environment {
			if strings.HasPrefix(k, config.EnvPrefix) && !config.IsKnownEnv(k) {
				t.Errorf("service %s sets %s, which the configuration loader does not read", name, k)
			}
		}
	}
}

// The connector's environment alone is a valid configuration (run would start), both as shipped (simulator) and
// with the README's real-API variables in the invoking shell.
func TestComposeConnectorConfig(t *testing.T) {
	c := loadCompose(t)
	conn := composeSvc(t, c, "connector")
	tests := []struct {
		name      string
		shell     map[string]string
		wantGraph string
		wantPixel string
	}{
		{name: "as shipped", wantGraph: "http://graph-simulator:8090", wantPixel: "1234567890123"},
		{name: "real API", shell: map[string]string{
			"CAPI_PIXEL_ID": "998877665544", "CAPI_ACCESS_TOKEN": "EAAB-real-token",
			"CAPI_GRAPH_URL": "https://graph.facebook.com", "CAPI_TEST_EVENT_CODE": "TEST123",
		}, wantGraph: "https://graph.facebook.com", wantPixel: "998877665544"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			vars := composeEnvOf(conn, tt.shell)
			cfg, err := config.Load("", mapLookup(vars))
			if err != nil {
				t.Fatalf("config.Load with the connector's environment: %v", err)
			}
			if err := cfg.Validate(); err != nil {
				t.Fatalf("the connector would refuse to start: %v", err)
			}
			if len(cfg.Destinations) != 1 {
				t.Fatalf("%d destinations, want 1", len(cfg.Destinations))
			}
			d := cfg.Destinations[0]
			if cfg.Graph.URL != tt.wantGraph || d.PixelID != tt.wantPixel {
				t.Errorf("graph.url %q, pixel %q; want %q, %q", cfg.Graph.URL, d.PixelID, tt.wantGraph, tt.wantPixel)
			}
			if d.ConsentCategory != sample.ConsentCategory {
				t.Errorf("consent category %q, but the sample events grant %q: every event would be no_consent",
					d.ConsentCategory, sample.ConsentCategory)
			}
			if d.DefaultPhoneRegion != "FR" {
				t.Errorf("default phone region %q, want FR (the samples' national numbers)", d.DefaultPhoneRegion)
			}
			if cfg.MetricsAddr == "" {
				t.Error("metrics disabled: nothing to look at on the published port")
			}
		})
	}
}

// Addresses in the environment and commands point at the services and ports that serve them.
func TestComposeAddresses(t *testing.T) {
	c := loadCompose(t)
	kafka := composeSvc(t, c, "kafka").Environment
	conn := composeSvc(t, c, "connector")
	connEnv := composeEnvOf(conn, nil)

	// KRaft single node.
	if kafka["KAFKA_PROCESS_ROLES"] != "broker,controller" {
		t.Errorf("KAFKA_PROCESS_ROLES = %q, want broker,controller", kafka["KAFKA_PROCESS_ROLES"])
	}
	voter := kafka["KAFKA_CONTROLLER_QUORUM_VOTERS"]
	id, addr, _ := strings.Cut(voter, "@")
	if id != kafka["KAFKA_NODE_ID"] {
		t.Errorf("quorum voter %q is not node %q", voter, kafka["KAFKA_NODE_ID"])
	}
	vh, vp := splitAddr(t, addr)
	if _, cp := kafkaListener(t, kafka["KAFKA_LISTENERS"], kafka["KAFKA_CONTROLLER_LISTENER_NAMES"]); vh != "kafka" || vp != cp {
		t.Errorf("quorum voter %q does not match the controller listener (port %s) of service kafka", voter, cp)
	}
	if raw, err := base64.RawURLEncoding.DecodeString(kafka["CLUSTER_ID"]); err != nil || len(raw) != 16 {
		t.Errorf("CLUSTER_ID %q is not a base64 UUID (kafka-storage.sh random-uuid)", kafka["CLUSTER_ID"])
	}
	advHost, advPort := kafkaListener(t, kafka["KAFKA_ADVERTISED_LISTENERS"], "PLAINTEXT")
	if _, lp := kafkaListener(t, kafka["KAFKA_LISTENERS"], "PLAINTEXT"); lp != advPort {
		t.Errorf("PLAINTEXT listens on %s but is advertised on %s", lp, advPort)
	}
	if advHost != "kafka" {
		t.Errorf("PLAINTEXT advertised host %q is not the service name kafka", advHost)
	}
	wantBroker := net.JoinHostPort(advHost, advPort)

	// Clients of Kafka.
	for _, name := range []string{"connector", "producer"} {
		vars := composeEnvOf(composeSvc(t, c, name), nil)
		if vars["CAPI_KAFKA_BROKERS"] != wantBroker {
			t.Errorf("%s: CAPI_KAFKA_BROKERS = %q, want the advertised listener %s", name, vars["CAPI_KAFKA_BROKERS"], wantBroker)
		}
		if vars["CAPI_KAFKA_TOPIC"] != connEnv["CAPI_KAFKA_TOPIC"] {
			t.Errorf("%s produces to %q, the connector reads %q", name, vars["CAPI_KAFKA_TOPIC"], connEnv["CAPI_KAFKA_TOPIC"])
		}
	}
	initCmd := strings.Join(composeSvc(t, c, "kafka-init").Command, " ")
	if !strings.Contains(initCmd, "--bootstrap-server "+wantBroker) {
		t.Errorf("kafka-init does not reach %s: %q", wantBroker, initCmd)
	}
	for _, topic := range []string{connEnv["CAPI_KAFKA_TOPIC"], connEnv["CAPI_DLQ_TOPIC"]} {
		re := regexp.MustCompile(`kafka-topics\.sh [^&;]*--create --if-not-exists[^&;]* --topic ` + regexp.QuoteMeta(topic) + `( |$)`)
		if !re.MatchString(initCmd) {
			t.Errorf("kafka-init does not create topic %q (auto-creation is off): %q", topic, initCmd)
		}
	}
	if !regexp.MustCompile(`--topic ` + regexp.QuoteMeta(connEnv["CAPI_KAFKA_TOPIC"]) + ` --partitions 6 `).MatchString(initCmd) {
		t.Errorf("source topic is not created with 6 partitions: %q", initCmd)
	}

	// Graph simulator.
	sim := composeSvc(t, c, "graph-simulator")
	_, simPort := splitAddr(t, argValue(sim.Command, "listen"))
	u, err := url.Parse(connEnv["CAPI_GRAPH_URL"])
	if err != nil {
		t.Fatal(err)
	}
	if u.Hostname() != "graph-simulator" || u.Port() != simPort {
		t.Errorf("CAPI_GRAPH_URL %q does not reach graph-simulator:%s", connEnv["CAPI_GRAPH_URL"], simPort)
	}
	if !slices.Contains(publishedPorts(sim.Ports), simPort) {
		t.Errorf("graph-simulator publishes %q, not its --listen port %s (/_sim/stats)", sim.Ports, simPort)
	}

	// Metrics.
	_, metricsPort := splitAddr(t, connEnv["CAPI_METRICS_ADDR"])
	if !slices.Contains(publishedPorts(conn.Ports), metricsPort) {
		t.Errorf("connector publishes %q, not its metrics port %s", conn.Ports, metricsPort)
	}

	// A stop must leave time for the connector's own graceful shutdown.
	grace, err := time.ParseDuration(conn.StopGracePeriod)
	if err != nil {
		t.Fatalf("connector stop_grace_period %q: %v (docker's default 10s kills a draining connector)", conn.StopGracePeriod, err)
	}
	cfg, err := config.Load("", mapLookup(connEnv))
	if err != nil {
		t.Fatal(err)
	}
	if grace <= cfg.ShutdownTimeout {
		t.Errorf("stop_grace_period %s ≤ shutdown timeout %s: the connector is killed mid-commit", grace, cfg.ShutdownTimeout)
	}
}

// The simulator's poisoned event_ids are exactly those the producer's flags generate, so poisoned events reach the
// DLQ as facebook_rejected and nothing else is rejected by accident.
func TestComposePoisonedIDsMatchProducer(t *testing.T) {
	c := loadCompose(t)
	prod := composeSvc(t, c, "producer").Command
	num := func(name string) int {
		v := argValue(prod, name)
		if v == "" {
			return 0
		}
		n, err := strconv.Atoi(v)
		if err != nil {
			t.Fatalf("producer --%s %q: %v", name, v, err)
		}
		return n
	}
	seed, err := strconv.ParseUint(argValue(prod, "seed"), 10, 64)
	if err != nil {
		t.Fatalf("producer --seed: %v (a fixed seed makes the poisoned event_ids known)", err)
	}
	gen := sample.New(seed, time.Now())
	gen.PoisonEvery, gen.TooOldEvery, gen.InvalidEvery = num("poison-every"), num("too-old-every"), num("invalid-every")
	var want []string
	kinds := map[sample.Kind]int{}
	for range num("events") {
		e := gen.Next()
		kinds[e.Kind]++
		if e.Kind == sample.Poisoned {
			want = append(want, e.EventID)
		}
	}
	got := strings.Split(argValue(composeSvc(t, c, "graph-simulator").Command, "poison"), ",")
	slices.Sort(got)
	slices.Sort(want)
	if len(want) == 0 || !slices.Equal(got, want) {
		t.Errorf("simulator --poison = %q, the producer generates poisoned ids %q", got, want)
	}
	for _, k := range []sample.Kind{sample.Deliverable, sample.TooOld, sample.InvalidJSON} {
		if kinds[k] == 0 {
			t.Errorf("the producer generates no %s events", k)
		}
	}
}

var goModRE = regexp.MustCompile(`(?m)^go (\d+)\.(\d+)(?:\.(\d+))?\s*$`)
var golangImageRE = regexp.MustCompile(`(?im)^FROM\s+(?:--platform=\S+\s+)?golang:(\d+)\.(\d+)(?:\.(\d+))?\S*\s`)

// dockerInstructions returns the arguments of every line starting with instr (continuation lines joined).
func dockerInstructions(dockerfile, instr string) []string {
	var out []string
	joined := strings.ReplaceAll(dockerfile, "\\\n", " ")
	sc := bufio.NewScanner(strings.NewReader(joined))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if rest, ok := strings.CutPrefix(line, instr+" "); ok {
			out = append(out, strings.TrimSpace(rest))
		}
	}
	return out
}

func TestDockerfile(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(repoDir, "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	df := string(data)
	mod, err := os.ReadFile(filepath.Join(repoDir, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	gm, gi := goModRE.FindStringSubmatch(string(mod)), golangImageRE.FindStringSubmatch(df)
	if gm == nil || gi == nil {
		t.Fatalf("go.mod go line %q, Dockerfile golang image %q: not found", gm, gi)
	}
	if gm[1] != gi[1] || gm[2] != gi[2] {
		t.Errorf("Dockerfile builds with Go %s.%s, go.mod says %s.%s", gi[1], gi[2], gm[1], gm[2])
	}
	if gi[3] != "" && gm[3] != "" {
		if a, b := mustAtoi(t, gi[3]), mustAtoi(t, gm[3]); a < b {
			t.Errorf("Dockerfile pins Go patch %d, older than go.mod's %d: the build fails with GOTOOLCHAIN=local", a, b)
		}
	}

	const bin = "/usr/local/bin/capi-connector"
	builds := dockerInstructions(df, "RUN")
	var out string
	for _, r := range builds {
		if m := regexp.MustCompile(`CGO_ENABLED=0 go build .*-o (\S+) \./cmd/capi-connector\b`).FindStringSubmatch(r); m != nil {
			out = m[1]
		}
	}
	if out == "" {
		t.Fatalf("no `CGO_ENABLED=0 go build -o … ./cmd/capi-connector` in %q", builds)
	}
	froms := dockerInstructions(df, "FROM")
	if final := froms[len(froms)-1]; !strings.HasPrefix(final, "gcr.io/distroless/static") {
		t.Errorf("final stage %q, want distroless/static (the binary is static: CGO_ENABLED=0)", final)
	}
	copied := false
	for _, cp := range dockerInstructions(df, "COPY") {
		f := strings.Fields(cp)
		if strings.HasPrefix(f[0], "--from=") && len(f) == 3 && f[1] == out && f[2] == bin {
			copied = true
		}
	}
	if !copied {
		t.Errorf("the final stage does not COPY --from the build stage %s to %s", out, bin)
	}
	var entry, cmd []string
	for _, raw := range dockerInstructions(df, "ENTRYPOINT") {
		if err := json.Unmarshal([]byte(raw), &entry); err != nil {
			t.Fatalf("ENTRYPOINT %s: want exec form: %v", raw, err)
		}
	}
	for _, raw := range dockerInstructions(df, "CMD") {
		if err := json.Unmarshal([]byte(raw), &cmd); err != nil {
			t.Fatalf("CMD %s: want exec form: %v", raw, err)
		}
	}
	if !slices.Equal(entry, []string{bin}) || !slices.Equal(cmd, []string{"run"}) {
		t.Errorf("ENTRYPOINT %q CMD %q, want [%s] [run]", entry, cmd, bin)
	}
}

func mustAtoi(t *testing.T, s string) int {
	t.Helper()
	n, err := strconv.Atoi(s)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// dockerignored reports whether a .dockerignore pattern excludes rel (slash-separated): a pattern matches the path
// or one of its parent directories; "**/" matches any number of leading directories.
func dockerignored(patterns []string, rel string) bool {
	elems := strings.Split(rel, "/")
	for _, p := range patterns {
		p = strings.TrimPrefix(p, "/")
		for i := range elems {
			prefix := strings.Join(elems[:i+1], "/")
			if ok, _ := path.Match(p, prefix); ok {
				return true
			}
			if rest, ok := strings.CutPrefix(p, "**/"); ok {
				for j := range i + 1 {
					if ok, _ := path.Match(rest, strings.Join(elems[j:i+1], "/")); ok {
						return true
					}
				}
			}
		}
	}
	return false
}

// Every file the binary is built from is in the Docker build context.
func TestDockerignoreKeepsSources(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(repoDir, ".dockerignore"))
	if err != nil {
		t.Fatal(err)
	}
	var patterns []string
	for line := range strings.SplitSeq(string(data), "\n") {
		if line = strings.TrimSpace(line); line != "" && !strings.HasPrefix(line, "#") {
			if strings.HasPrefix(line, "!") {
				t.Fatalf(".dockerignore exception %q: this check does not understand exceptions", line)
			}
			patterns = append(patterns, line)
		}
	}
	// The matcher itself, and what must stay out: .env holds the access token given to docker compose.
	for _, p := range []string{"x_test.go", "a/b/testdata/f.json", ".git/HEAD", ".env"} {
		if !dockerignored(patterns, p) {
			t.Fatalf("matcher: %q should be ignored", p)
		}
	}
	cmd := exec.Command("go", "list", "-deps", "-f",
		`{{if .Module}}{{if .Module.Main}}{{$d := .Dir}}{{range .GoFiles}}{{$d}}/{{.}}{{"\n"}}{{end}}{{range .EmbedFiles}}{{$d}}/{{.}}{{"\n"}}{{end}}{{end}}{{end}}`,
		"./cmd/capi-connector")
	cmd.Dir = repoDir
	outb, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	root, err := filepath.Abs(repoDir)
	if err != nil {
		t.Fatal(err)
	}
	files := []string{"go.mod", "go.sum"}
	for f := range strings.SplitSeq(strings.TrimSpace(string(outb)), "\n") {
		rel, err := filepath.Rel(root, f)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, filepath.ToSlash(rel))
	}
	if len(files) < 10 {
		t.Fatalf("go list found only %q", files)
	}
	for _, f := range files {
		if dockerignored(patterns, f) {
			t.Errorf(".dockerignore excludes %s, which the binary is built from", f)
		}
	}
}

// printsUsage reports whether out is the -h text of the subcommand: the flag package's "Usage of NAME" or the
// command's own "usage: capi-connector NAME".
func printsUsage(out, name string) bool {
	return strings.Contains(out, "Usage of "+name) || strings.Contains(out, "usage: capi-connector "+name)
}

// What compose runs is accepted by the binary the Dockerfile builds:
//   - every command of a built service is a subcommand that accepts the flags it is given (the flags are parsed
//     in order, then -h stops before anything runs);
//   - the connector's environment passes the binary's own check-config (the checks run performs before starting,
//     pipeline construction included).
func TestComposeBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	c := loadCompose(t)
	bin := connectorBinary(t)
	for name, s := range c.Services {
		if !usesCapiImage(c, s) {
			continue
		}
		t.Run("command/"+name, func(t *testing.T) {
			args := append(slices.Clone(s.Command), "-h")
			cmd := proctest.Command(bin, composeEnvOf(s, nil), args...)
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			if err := cmd.Run(); err != nil {
				t.Fatalf("capi-connector %q: %v\n%s%s", args, err, stdout.String(), stderr.String())
			}
			if out := stdout.String() + stderr.String(); !printsUsage(out, s.Command[0]) {
				t.Errorf("capi-connector %q printed no flag usage of %s: %q", args, s.Command[0], out)
			}
		})
	}
	// Commands the README runs inside the stack (docker compose run --rm connector …), with the connector's
	// environment.
	for _, args := range [][]string{
		{"replay", "--reason", "facebook_rejected", "--dry-run"},
		{"replay", "--reason", "facebook_rejected", "--json", "--max-replays", "3"},
		{"check-config"},
	} {
		t.Run("documented/"+strings.Join(args, " "), func(t *testing.T) {
			cmd := proctest.Command(bin, composeEnvOf(composeSvc(t, c, "connector"), nil), append(slices.Clone(args), "-h")...)
			if out, err := cmd.CombinedOutput(); err != nil || !printsUsage(string(out), args[0]) {
				t.Fatalf("capi-connector %q -h: %v\n%s", args, err, out)
			}
		})
	}
	// The simulator's health check, run as compose runs it (the binary in the image), against the simulator started
	// with compose's command: unhealthy before it listens, healthy once it does. Ports are moved to a free one.
	t.Run("graph-simulator healthcheck", func(t *testing.T) {
		sim := composeSvc(t, c, "graph-simulator")
		hc := sim.Healthcheck
		if hc == nil || len(hc.Test) < 3 || hc.Test[1] != capiBinary {
			t.Fatalf("healthcheck %+v", hc)
		}
		_, port := splitAddr(t, proctest.FreeAddr(t))
		withPort := func(args []string) []string {
			out := slices.Clone(args)
			for i, a := range out {
				if i > 0 && (out[i-1] == "--listen" || out[i-1] == "--addr") {
					h, _ := splitAddr(t, a)
					if h == "0.0.0.0" {
						h = "127.0.0.1"
					}
					out[i] = net.JoinHostPort(h, port)
				}
			}
			return out
		}
		check := func() error {
			cmd := proctest.Command(bin, composeEnvOf(sim, nil), withPort(hc.Test[2:])...)
			return cmd.Run()
		}
		if err := check(); err == nil {
			t.Fatal("healthcheck succeeded with no simulator listening")
		}
		srv := proctest.Command(bin, nil, withPort(sim.Command)...)
		proctest.Start(t, "graph-simulator", srv, 0)
		var err error
		if eventually(20*time.Second, func() bool { err = check(); return err == nil }) != nil {
			t.Fatalf("compose's simulator healthcheck %q never succeeded: %v", hc.Test, err)
		}
	})
	t.Run("connector healthcheck flags", func(t *testing.T) {
		hc := composeSvc(t, c, "connector").Healthcheck
		if hc == nil || len(hc.Test) < 3 {
			t.Fatalf("healthcheck %+v", hc)
		}
		cmd := proctest.Command(bin, composeEnvOf(composeSvc(t, c, "connector"), nil), append(slices.Clone(hc.Test[2:]), "-h")...)
		if out, err := cmd.CombinedOutput(); err != nil || !strings.Contains(string(out), "healthcheck") {
			t.Fatalf("capi-connector %q -h: %v\n%s", hc.Test[2:], err, out)
		}
	})
	t.Run("connector check-config", func(t *testing.T) {
		cmd := proctest.Command(bin, composeEnvOf(composeSvc(t, c, "connector"), nil), "check-config")
		out, err := cmd.CombinedOutput()
		if err != nil || !strings.Contains(string(out), "configuration OK") {
			t.Fatalf("check-config with the connector's environment: %v\n%s", err, out)
		}
	})
}

var digestRE = regexp.MustCompile(`@sha256:[0-9a-f]{64}(\s|$)`)

// The image checks itself, says what it is, carries its version, and builds from pinned bases:
//   - HEALTHCHECK runs the binary's healthcheck (no shell or curl in distroless), exec form;
//   - OCI labels title, version, revision, created, source; version from the same build argument as -ldflags;
//   - every FROM pinned by digest, with a comment saying how to update the digests.
func TestDockerfileImageMetadata(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(repoDir, "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	df := string(data)
	hcs := dockerInstructions(df, "HEALTHCHECK")
	if len(hcs) != 1 {
		t.Fatalf("want one HEALTHCHECK, got %q", hcs)
	}
	_, cmdJSON, ok := strings.Cut(hcs[0], "CMD ")
	var hc []string
	if !ok || json.Unmarshal([]byte(strings.TrimSpace(cmdJSON)), &hc) != nil || len(hc) < 2 || hc[0] != capiBinary || hc[1] != "healthcheck" {
		t.Errorf("HEALTHCHECK %q: want CMD [\"%s\", \"healthcheck\", …] in exec form", hcs[0], capiBinary)
	}
	labels := strings.Join(dockerInstructions(df, "LABEL"), " ")
	for _, l := range []string{"title", "description", "version", "revision", "created", "source"} {
		if !strings.Contains(labels, "org.opencontainers.image."+l+"=") {
			t.Errorf("no OCI label org.opencontainers.image.%s", l)
		}
	}
	if !strings.Contains(labels, `org.opencontainers.image.version="${VERSION}"`) {
		t.Errorf("the version label is not the VERSION build argument: %q", labels)
	}
	stamped := false
	for _, r := range dockerInstructions(df, "RUN") {
		stamped = stamped || strings.Contains(r, `-ldflags "-X main.version=${VERSION}"`)
	}
	if !stamped {
		t.Error(`the build does not stamp the version: want -ldflags "-X main.version=${VERSION}"`)
	}
	for _, from := range dockerInstructions(df, "FROM") {
		if !digestRE.MatchString(from) {
			t.Errorf("FROM %s: not pinned by digest (@sha256:…)", from)
		}
	}
	if !strings.Contains(df, "imagetools inspect") && !strings.Contains(df, "crane digest") {
		t.Error("no comment saying how to update the pinned digests")
	}
}
