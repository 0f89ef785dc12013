package e2e

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/sr"

	"github.com/capi-connector/capi-connector/schema"
)

// readmeExample returns the shell lines of the docs/configuration.md block that follows the marker naming this test.
func readmeExample(t *testing.T) []string {
	t.Helper()
	f, err := os.Open("../docs/configuration.md")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var lines []string
	state := 0 // 0: looking for the marker, 1: for the fence, 2: in the block
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		l := sc.Text()
		switch {
		case state == 0 && strings.Contains(l, "test/registry_readme_test.go"):
			state = 1
		case state == 1 && strings.HasPrefix(l, "```sh"):
			state = 2
		case state == 2 && strings.HasPrefix(l, "```"):
			return lines
		case state == 2:
			lines = append(lines, l)
		}
	}
	t.Fatalf("docs/configuration.md has no sh block after a marker naming test/registry_readme_test.go (state %d)", state)
	return nil
}

// TestREADMERegistryExample runs the README's schema-reference example as written against the real registry
// (its first line, which starts the registry, is replaced by the registry of this run), then decodes a record
// framed with the id it registered: the product comes back with the id and name the producer wrote, after a
// record of the shipped event schema (which defines its own Product, id first) was decoded by the same decoder.
func TestREADMERegistryExample(t *testing.T) {
	url := os.Getenv(RegistryEnv)
	if url == "" {
		t.Skipf("%s is not set: no real schema registry (make test starts one with test/registry/start.sh)", RegistryEnv)
	}
	if _, err := exec.LookPath("curl"); err != nil {
		t.Skip("curl not found: the README example uses it")
	}
	lines := readmeExample(t)
	if len(lines) < 3 || !strings.HasPrefix(lines[0], "REGISTRY=$(test/registry/start.sh") {
		t.Fatalf("the README example no longer starts with the registry: %q", lines)
	}
	script := strings.Join(append([]string{"set -euo pipefail"}, lines[1:]...), "\n")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", "-c", script)
	cmd.Env = append(os.Environ(), "REGISTRY="+url)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("the README example failed: %v\n%s", err, out)
	}
	ids := regexp.MustCompile(`"id":\s*(\d+)`).FindAllStringSubmatch(string(out), -1)
	if len(ids) != 2 {
		t.Fatalf("the README example printed %q, want two {\"id\":N} answers", out)
	}
	id, _ := strconv.Atoi(ids[1][1])

	// What a producer holding these schemas writes: the registry's own texts.
	cl, err := sr.NewClient(sr.URLs(url))
	if err != nil {
		t.Fatal(err)
	}
	writer, err := cl.SchemaByID(ctx, id)
	if err != nil || len(writer.References) != 1 {
		t.Fatalf("schema %d: %+v, %v; want one reference", id, writer, err)
	}
	product, err := cl.SchemaByVersion(ctx, writer.References[0].Subject, writer.References[0].Version)
	if err != nil {
		t.Fatal(err)
	}
	rec := map[string]any{"event_name": "purchase", "items": []any{
		map[string]any{"product": map[string]any{"name": "Trail running shoes", "id": "SKU-1001"}},
	}}
	withRef, err := schema.EncodeAvroConfluent(id, writer.Schema, rec, product.Schema.Schema)
	if err != nil {
		t.Fatal(err)
	}
	inlineID, err := cl.RegisterSchema(ctx, "readme-inline-value", sr.Schema{Schema: schema.EventAvroSchema()}, -1, -1)
	if err != nil {
		t.Fatal(err)
	}
	inline, err := schema.EncodeAvroConfluent(inlineID, "", schema.EventToAvro(&schema.Event{EventName: "purchase",
		Items: []schema.Item{{Product: schema.Product{ID: "SKU-2002", Name: "Merino socks"}}}}))
	if err != nil {
		t.Fatal(err)
	}

	dec, err := schema.NewAvroConfluent(schema.RegistryConfig{URL: url, Timeout: 5 * time.Second}, schema.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		data     []byte
		id, name string
	}{{inline, "SKU-2002", "Merino socks"}, {withRef, "SKU-1001", "Trail running shoes"}, {inline, "SKU-2002", "Merino socks"}} {
		var ev schema.Event
		if err := dec.Decode(ctx, tc.data, &ev); err != nil {
			t.Fatalf("decode: %v", err)
		}
		if len(ev.Items) != 1 || ev.Items[0].Product.ID != tc.id || ev.Items[0].Product.Name != tc.name {
			t.Fatalf("decoded items %+v, want product %s named %q", ev.Items, tc.id, tc.name)
		}
	}
}
