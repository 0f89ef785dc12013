package normalize

import (
	"bufio"
	"encoding/json"
	"os"
	"testing"

	"github.com/capi-connector/capi-connector/processor/fbevent"
)

// corpusRow is one line of testdata/matchkeys/corpus.jsonl: a messy value of one user_data field, the event's
// country as sent (any spelling, "" for none), and what Meta's rules make of it — the normalized string, or a
// drop (with its reason when the corpus states one). The corpus is generated from known truths by
// testdata/matchkeys/gen.py, which computes phone readings with Python's phonenumbers (Google's libphonenumber
// algorithm and metadata), independently of this package.
type corpusRow struct {
	Field   string `json:"field"`
	Country string `json:"country"`
	In      string `json:"in"`
	Want    string `json:"want"`
	Drop    bool   `json:"drop"`
	Reason  string `json:"reason"`
}

// corpusPlaceholders are the defaults of config user_data_placeholders, which the corpus assumes.
var corpusPlaceholders = []string{"n/a", "-", "null", "undefined", "none", "unknown", "test", "xxx"}

// TestMatchKeyCorpus runs the corpus as a table: every field, 15+ countries, the destination's phone region FR.
// Each row checks the clear value (Field) and that UserData hashes exactly that value.
func TestMatchKeyCorpus(t *testing.T) {
	f, err := os.Open("testdata/matchkeys/corpus.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	n, err := NewWithOptions(Options{DefaultRegion: "FR", Placeholders: corpusPlaceholders})
	if err != nil {
		t.Fatal(err)
	}
	fields := map[string]int{}
	sc := bufio.NewScanner(f)
	for line := 1; sc.Scan(); line++ {
		var row corpusRow
		if err := json.Unmarshal(sc.Bytes(), &row); err != nil {
			t.Fatalf("line %d: %v", line, err)
		}
		fields[row.Field]++
		got, reason := n.Field(row.Field, row.In, row.Country)
		switch {
		case row.Drop && got != "":
			t.Errorf("line %d: %s %q (country %q) = %q, want dropped", line, row.Field, row.In, row.Country, got)
		case row.Drop && row.Reason != "" && reason.String() != row.Reason:
			t.Errorf("line %d: %s %q dropped for %s, want %s", line, row.Field, row.In, reason, row.Reason)
		case !row.Drop && got != row.Want:
			t.Errorf("line %d: %s %q (country %q) = %q (%s), want %q", line, row.Field, row.In, row.Country, got, reason, row.Want)
		}
		if !row.Drop && got == row.Want {
			// Through the stage: the hash of exactly that value.
			ud := userDataWith(row.Field, row.In, row.Country)
			n.UserData(&ud)
			if h := *fieldsOf(&ud)[FieldIndex(row.Field)]; h != Hash(row.Want) {
				t.Errorf("line %d: UserData hashed %s %q to %s, want Hash(%q)", line, row.Field, row.In, h, row.Want)
			}
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	for _, k := range keys {
		if fields[k] < 10 {
			t.Errorf("corpus has %d rows for %s, want at least 10", fields[k], k)
		}
	}
}

// userDataWith returns user_data with one field set, and the country when given.
func userDataWith(field, value, country string) (ud fbevent.UserData) {
	ud.Country = country
	*fieldsOf(&ud)[FieldIndex(field)] = value
	return ud
}
