package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/capi-connector/capi-connector/processor/dlq"
	"github.com/capi-connector/capi-connector/schema/sample"
	"github.com/capi-connector/capi-connector/test/proctest"
)

// storeFile writes what a French point-of-sale export looks like: UTF-8 with a BOM, ';' delimiters, decimal
// commas, quoted fields with delimiters, quotes and line breaks, CRLF. Rows E-1…E-6 have known fates; n more
// deliverable rows carry no id (their event id is a content hash).
func storeFile(t *testing.T, n int) (path string, fates map[string]string) {
	t.Helper()
	now := time.Now().UTC()
	day := func(d int) string { return now.Add(-time.Duration(d) * 24 * time.Hour).Format("2006-01-02 15:04:05") }
	c := sample.ConsentCategory
	var b strings.Builder
	b.WriteString("\xEF\xBB\xBFevent_name;id;value;currency;name;user.email;user.phone;user.firstname;user.lastname;user.city;user.country;user.id;consent_categories;context.event_timestamp\r\n")
	row := func(cells ...string) { b.WriteString(strings.Join(cells, ";") + "\r\n") }
	row("purchase", "E-1", "59,90", "EUR", `"Pull; ""laine""`+"\r\n"+`taille XL"`, "jean@example.fr", "06 12 34 56 78", "Jean", "Dupont", "Lyon", "FR", "", "1|"+c, day(2))
	row("purchase", "E-2", "1 234,50", "EUR", "", "marie@example.fr", "", "Marie", "Curie", "Paris", "FR", "", c, day(40)) // store window: 62 days
	row("purchase", "E-3", "10,00", "EUR", "", "luc@example.fr", "", "Luc", "Petit", "Metz", "FR", "", c, day(70))
	row("purchase", "E-4", "10,00", "EUR", "", "paul@example.fr", "", "Paul", "Martin", "Nice", "FR", "", "1", day(1))
	row("purchase", "E-5", "10,00", "EUR", "", "", "", "Ana", "Lopez", "Pau", "FR", "C-77", c, day(1))
	row("generate_lead", "E-6", "", "", "", "zoe@example.fr", "", "", "", "", "", "", c, day(1))
	row("purchase", "E-7", "douze", "EUR", "", "eve@example.fr", "", "Eve", "Roux", "Lille", "FR", "", c, day(1)) // unparseable
	for i := range n {
		row("purchase", "", fmt.Sprintf("%d,%02d", 10+i, i%100), "EUR", "", fmt.Sprintf("client%d@example.fr", i), "", "Client", fmt.Sprintf("N%d", i), "Rennes", "FR", "", c, day(3))
	}
	path = filepath.Join(t.TempDir(), "ventes magasin.csv")
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	return path, map[string]string{"E-1": "", "E-2": "", "E-3": "event_too_old", "E-4": "no_consent",
		"E-5": "missing_pii_for_purchase", "E-6": "insufficient_user_data"}
}

// importCLI runs `capi-connector import` as a user would, configured by CAPI_* variables only, and returns its
// output with runs of white space collapsed.
func (e *env) importCLI(args ...string) string {
	e.t.Helper()
	out := proctest.Output(e.t, connectorBinary(e.t), e.importVars(), append([]string{"import"}, args...)...)
	return strings.Join(strings.Fields(out), " ") // the summary's table, one space between words
}

// importVars are the CAPI_* variables of `capi-connector import` for this test's broker and source topic.
func (e *env) importVars() map[string]string {
	return map[string]string{"CAPI_KAFKA_BROKERS": strings.Join(e.brokers, ","), "CAPI_KAFKA_TOPIC": e.topic}
}

// TestImportedFileDeliveredTwiceWithTheSameIDs imports a store export with the real binary, runs the connector,
// and checks every row: at the Graph simulator as physical_store within the 62-day window, in the DLQ with the
// right reason, or in the rejects file. Importing the file again sends the same event ids (the simulator counts
// them as duplicates, as Meta deduplicates them).
func TestImportedFileDeliveredTwiceWithTheSameIDs(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	const extra = 300
	e := newEnv(t, 3)
	path, fates := storeFile(t, extra)
	rejects := filepath.Join(t.TempDir(), "rejects.csv")
	out := e.importCLI("--rejects", rejects, path)
	for _, want := range []string{"delimiter ';', UTF-8 with BOM, decimal comma", fmt.Sprintf("produced (acknowledged) %d", 6+extra),
		"written to the rejects file 1", "neither produced nor rejected 0", "same event ids"} {
		if !strings.Contains(out, want) {
			t.Errorf("import output lacks %q:\n%s", want, out)
		}
	}
	rej, _ := os.ReadFile(rejects)
	if !strings.Contains(string(rej), "E-7") || !strings.Contains(string(rej), `"line 9: column ""value"" (value): not a number"`) {
		t.Errorf("rejects file:\n%s", rej)
	}

	run := e.start(e.config())
	e.waitCommitted(e.endOffsets(e.topic), 60*time.Second, nil)
	ids := e.sim.EventIDs()
	delivered := map[string]bool{}
	for _, ev := range e.sim.Events() {
		delivered[ev.EventID] = true
		if ev.ActionSource != "physical_store" {
			t.Errorf("event %s: action_source %q, want physical_store", ev.EventID, ev.ActionSource)
		}
		if age := time.Since(time.Unix(ev.EventTime, 0)); age > 62*24*time.Hour || age < 0 {
			t.Errorf("event %s is %s old", ev.EventID, age)
		}
	}
	if ev := findEvent(e, "E-2"); ev == "" || !strings.Contains(ev, `"value":1234.5`) {
		t.Errorf("E-2 (40 days old, decimal comma with a thousands space) as sent: %s", ev)
	}
	if ev := findEvent(e, "E-1"); !strings.Contains(ev, `"content_name":"Pull; \"laine\"\ntaille XL"`) {
		t.Errorf("E-1's quoted name as sent: %s", ev)
	}
	reasons := map[string]string{}
	for _, r := range e.dlqRecords() {
		reason, _ := dlq.Header(r.Headers, dlq.HeaderReason)
		reasons[string(r.Key)] = reason
		if line, ok := dlq.Header(r.Headers, "import-line"); !ok || line == "" {
			t.Errorf("DLQ record %s lost the import-line header (the DLQ keeps the source headers)", r.Key)
		}
	}
	for id, fate := range fates {
		switch {
		case fate == "" && ids[id] != 1:
			t.Errorf("%s delivered %d times, want once", id, ids[id])
		case fate != "" && (ids[id] != 0 || reasons[id] != fate):
			t.Errorf("%s: delivered %d times, DLQ reason %q; want %s", id, ids[id], reasons[id], fate)
		}
	}
	if len(delivered) != 2+extra || len(reasons) != 4 {
		t.Fatalf("%d distinct events delivered, %d dead-lettered; want %d and 4", len(delivered), len(reasons), 2+extra)
	}

	// The same file again: the same event ids reach Graph, which deduplicates them.
	e.importCLI("--rejects", rejects, path)
	e.waitCommitted(e.endOffsets(e.topic), 60*time.Second, nil)
	if err := eventually(30*time.Second, func() bool { return e.sim.Stats().DuplicateEvents == int64(2+extra) }); err != nil {
		t.Fatalf("duplicates %d, want %d (every delivered id once more)", e.sim.Stats().DuplicateEvents, 2+extra)
	}
	for id, n := range e.sim.EventIDs() {
		if !delivered[id] || n != 2 {
			t.Errorf("after the second import, %s was accepted %d times (first import: %v)", id, n, delivered[id])
		}
	}
	if err := run.Stop(t); err != nil {
		t.Fatal(err)
	}
}

func findEvent(e *env, id string) string {
	for _, ev := range e.sim.Events() {
		if ev.EventID == id {
			return string(ev.Raw)
		}
	}
	return ""
}

// TestImportKilledAndResumed SIGKILLs `capi-connector import` in the middle of a large file, then runs it again
// with --resume: every row reaches the topic, the rows the state file counted as done are not produced again, and
// the rows written after its last save come again under the same keys.
func TestImportKilledAndResumed(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	const rows = 100_000
	e := newEnv(t, 3)
	var b strings.Builder
	b.WriteString("id;event_name;value;user.email\n")
	for i := range rows {
		fmt.Fprintf(&b, "K-%d;purchase;%d,50;c%d@example.fr\n", i, i%100, i)
	}
	path := filepath.Join(t.TempDir(), "big.csv")
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	imp := proctest.Start(t, "import", proctest.Command(connectorBinary(t), e.importVars(), "import", "--state-interval", "10ms", path), 0)
	statePath := path + ".capi-import-state"
	var st struct {
		Rows     int64 `json:"rows_done"`
		Complete bool  `json:"complete"`
	}
	killed := false
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if data, err := os.ReadFile(statePath); err == nil && json.Unmarshal(data, &st) == nil && st.Rows > 0 {
			if !st.Complete {
				imp.Kill()
				killed = true
			}
			break
		}
	}
	<-imp.Done()
	if !killed {
		t.Fatalf("the import was not caught in the middle (state %+v): make the file larger", st)
	}
	data, _ := os.ReadFile(statePath) // what the kill left
	_ = json.Unmarshal(data, &st)
	beforeResume := sumOffsets(e.endOffsets(e.topic))
	if st.Complete || st.Rows <= 0 || beforeResume < st.Rows || beforeResume >= rows {
		t.Fatalf("after the kill: state %+v, %d records in the topic", st, beforeResume)
	}

	out := e.importCLI("--resume", path)
	if !strings.Contains(out, fmt.Sprintf("skipped (done in an earlier run) %d", st.Rows)) || !strings.Contains(out, "neither produced nor rejected 0") {
		t.Errorf("resumed import:\n%s", out)
	}
	keys := map[string]int{}
	for _, r := range e.readAll(e.topic) {
		keys[string(r.Key)]++
	}
	again := 0
	for i := range rows {
		n := keys[fmt.Sprintf("K-%d", i)]
		if n == 0 {
			t.Fatalf("row K-%d never reached the topic", i)
		}
		if int64(i) < st.Rows && n != 1 {
			t.Fatalf("row K-%d was done before the kill but produced %d times", i, n)
		}
		again += n - 1
	}
	// The rows produced twice are those written after the last save: acknowledged ones, and batches the broker
	// appended after the kill (so at least beforeResume-st.Rows).
	t.Logf("killed with %d rows saved as done and %d records in the topic; %d rows produced again after the resume", st.Rows, beforeResume, again)
	if int64(again) < beforeResume-st.Rows {
		t.Errorf("%d rows produced twice, fewer than the %d in the topic past the last save", again, beforeResume-st.Rows)
	}
}
