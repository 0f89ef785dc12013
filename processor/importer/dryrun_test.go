package importer

import (
	"bytes"
	"context"
	"os"
	"reflect"
	"regexp"
	"strings"
	"testing"
)

// storeSales is a known file: testNow is 2026-12-02 12:00 UTC, the destination wants consent category 2.
const storeSales = "\xEF\xBB\xBFevent_name;id;value;currency;user.email;user.phone;user.firstname;user.lastname;user.city;user.country;user.id;consent_categories;context.event_timestamp\r\n" +
	"purchase;S-1;59,90;EUR;jean@example.fr;06 12 34 56 78;Jean;Dupont;Lyon;FR;;2;2026-11-30 10:00:00\r\n" + // line 2: delivered (em, ph)
	"purchase;S-2;12,00;EUR;marie@example.fr;;Marie;Curie;Paris;FR;;1|2;2026-11-01 10:00:00\r\n" + // line 3: 31 days, store window: delivered (em)
	"purchase;S-3;15,00;EUR;paul@example.fr;;Paul;Martin;Nice;FR;;1;2026-11-30 10:00:00\r\n" + // line 4: no consent
	"purchase;S-4;\"1 000,00\";EUR;luc@example.fr;;Luc;Petit;Metz;FR;;2;2026-09-15 10:00:00\r\n" + // line 5: 78 days: too old
	"purchase;S-5;9,99;EUR;;;Ana;Lopez;Pau;FR;C-77;2;2026-11-30 10:00:00\r\n" + // line 6: no em/ph for a purchase
	"purchase;S-6;9,99;EUR;zoe@example.fr;;;;;;;2;2026-11-30 10:00:00\r\n" + // line 7: too little user data
	"purchase;S-7;douze;EUR;eve@example.fr;;Eve;Roux;Lille;FR;;2;2026-11-30 10:00:00\r\n" + // line 8: unparseable
	"generate_lead;S-8;;;;;Léo;Blanc;Caen;FR;C-78;2;2026-12-01 10:00:00\r\n" + // line 9: delivered (external_id)
	"purchase;S-9;5,00;EUR;\"tom@example.fr\";0612345679;Tom;\"Le \"\"Grand\"\"\";Brest;FR;;2;30/11/2026\r\n" // line 10: bad date

func TestDryRunFigures(t *testing.T) {
	var rej bytes.Buffer
	s, _, err := importBytes(t, []byte(storeSales), Options{DryRun: true, Pipeline: testPipeline(t), Now: testNow, Rejects: &rej})
	if err != nil {
		t.Fatal(err)
	}
	if s.Rows != 9 || s.Rejected != 2 || s.RejectsWritten != 2 || s.Produced != 0 {
		t.Fatalf("summary %+v", s)
	}
	want := DestinationSummary{
		Name:         "shop",
		WouldDeliver: 3,
		WouldDLQ:     map[string]int64{"no_consent": 1, "event_too_old": 1, "missing_pii_for_purchase": 1, "insufficient_user_data": 1},
		MatchKeys:    map[string]int64{"em": 2, "ph": 1, "external_id": 1},
	}
	if len(s.Destinations) != 1 || !reflect.DeepEqual(s.Destinations[0], want) {
		t.Fatalf("destination figures\n got %+v\nwant %+v", s.Destinations, want)
	}
	if len(s.Problems) != 2 || s.Problems[0].Line != 8 || s.Problems[1].Line != 10 {
		t.Errorf("problems %+v", s.Problems)
	}
	var out bytes.Buffer
	if err := s.WriteText(&out); err != nil {
		t.Fatal(err)
	}
	text := spaces.ReplaceAllString(out.String(), " ")
	for _, w := range []string{
		"rows read 9", "would produce 7", "rejected (unparseable) 2",
		"would be delivered 3 42.9%", "would be dead-lettered 4 57.1%", "no_consent", "event_too_old", "missing_pii_for_purchase",
		"match keys (share of the rows that would be delivered): em 66.7%, ph 33.3%, external_id 33.3%, fbp 0.0%, fbc 0.0%",
		"line 8: column \"value\" (value): not a number", "line 10: column \"context.event_timestamp\"",
		"Importing the same file again sends the same event ids",
	} {
		if !strings.Contains(text, w) {
			t.Errorf("summary lacks %q:\n%s", w, text)
		}
	}
	for _, secret := range []string{"eve@example.fr", "douze", "30/11/2026", "Dupont", "06 12"} {
		if strings.Contains(text, secret) {
			t.Errorf("the summary shows a value (%q):\n%s", secret, text)
		}
	}
	// The rejects file: BOM, the header plus a reason column, the rows exactly as read.
	wantRej := "\xEF\xBB\xBFevent_name;id;value;currency;user.email;user.phone;user.firstname;user.lastname;user.city;user.country;user.id;consent_categories;context.event_timestamp;capi_import_reason\n" +
		"purchase;S-7;douze;EUR;eve@example.fr;;Eve;Roux;Lille;FR;;2;2026-11-30 10:00:00;\"line 8: column \"\"value\"\" (value): not a number\"\n" +
		"purchase;S-9;5,00;EUR;\"tom@example.fr\";0612345679;Tom;\"Le \"\"Grand\"\"\";Brest;FR;;2;30/11/2026;\"line 10: column \"\"context.event_timestamp\"\" (context.event_timestamp): not a date in a known form"
	if !strings.HasPrefix(rej.String(), wantRej) {
		t.Errorf("rejects file:\n%s\nwant prefix:\n%s", rej.String(), wantRej)
	}

	// The rejects file is itself importable: its rows fail again for the same reasons, the reason column is ignored.
	s2, _, _ := importBytes(t, rej.Bytes(), Options{DryRun: true, Pipeline: testPipeline(t), Now: testNow})
	if s2.Rows != 2 || s2.Rejected != 2 || strings.Join(s2.IgnoredColumns, ",") != "capi_import_reason" {
		t.Errorf("re-reading the rejects file: %+v", s2)
	}
}

var spaces = regexp.MustCompile(` +`)

func TestRejectsAndExitStatus(t *testing.T) {
	// Without a rejects file, rejected rows are unaccounted for: the import fails although the rest is produced.
	s, p, err := importBytes(t, []byte(storeSales), Options{})
	if err == nil || s.Unaccounted != 2 || s.Produced != 7 || len(p.recs) != 7 {
		t.Fatalf("err %v, summary %+v", err, s)
	}
	// With one, every row is accounted for.
	var rej bytes.Buffer
	s, _, err = importBytes(t, []byte(storeSales), Options{Rejects: &rej})
	if err != nil || s.Unaccounted != 0 || s.RejectsWritten != 2 {
		t.Fatalf("err %v, summary %+v", err, s)
	}
	// A produce failure stops the import; the rows after it are unaccounted.
	fail := &memProducer{failAt: 3, err: context.DeadlineExceeded}
	s, _, err = importBytes(t, []byte(storeSales), Options{Producer: fail, Rejects: &rej})
	if err == nil || s.Produced != 2 || !strings.HasPrefix(s.Error, "producing to events: ") || s.Unaccounted != 1 {
		t.Fatalf("err %v, summary %+v", err, s)
	}
}

func TestProgressAndStdoutNeverShowValues(t *testing.T) {
	var seen []Progress
	path := writeFile(t, "sales.csv", []byte(storeSales))
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	s, err := Run(context.Background(), f, Options{Name: "sales.csv", Size: int64(len(storeSales)), Topic: "events",
		Producer: &memProducer{}, Rejects: &bytes.Buffer{}, Progress: func(p Progress) { seen = append(seen, p) }})
	if err != nil {
		t.Fatal(err)
	}
	last := seen[len(seen)-1]
	if !last.Done || last.Rows != 9 || last.Produced != 7 || last.Rejected != 2 || last.BytesRead != int64(len(storeSales)) {
		t.Fatalf("final progress %+v (summary %+v)", last, s)
	}
	var b bytes.Buffer
	WriteProgress(&b, last)
	if !strings.Contains(b.String(), "rows 9  produced 7  rejected 2") || !strings.Contains(b.String(), "100%") {
		t.Errorf("progress line %q", b.String())
	}
}
