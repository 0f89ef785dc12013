package schema

import (
	"context"
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hamba/avro/v2"

	"github.com/capi-connector/capi-connector/schema/registrytest"
)

// productSubject is the subject a producer registers its shared Product type under (RecordNameStrategy).
const productSubject = "com.commandersact.Product"

// productNameFirst is a shared Product type as another team defines it: the same full name as the event schema's
// inline Product, its fields in another order (name before id). A decoder that resolved the name through another
// writer schema's definition would swap the two strings.
const productNameFirst = `{"type":"record","name":"Product","namespace":"com.commandersact","fields":[
	{"name":"name","type":["null","string"],"default":null},
	{"name":"id","type":["null","string"],"default":null},
	{"name":"price","type":["null","double"],"default":null}]}`

// eventWithProductRef returns the event schema with its inline Product definition replaced by a reference to the
// named type com.commandersact.Product, which the schema no longer defines.
func eventWithProductRef(t testing.TB) string {
	t.Helper()
	s, err := registrytest.ReferenceTo(EventAvroSchema(), "Product", productSubject)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// refEvent is the event a producer writes in the reference tests: two products with distinct ids and names.
func refEvent() *Event {
	return &Event{EventName: "purchase", EventID: "ref-1", Items: []Item{
		{Product: Product{ID: "SKU-1", Name: "Shoes", Price: 12.5, HasPrice: true}, Quantity: 2, HasQuantity: true},
		{Product: Product{ID: "SKU-2", Name: "Socks"}},
	}}
}

// refAvro is refEvent in hamba's generic form for eventWithProductRef: the product record carries name, id and
// price only.
func refAvro() map[string]any {
	m := map[string]any{"event_name": "purchase", "event_id": "ref-1"}
	m["items"] = []any{
		map[string]any{"product": map[string]any{productSubject: map[string]any{"name": "Shoes", "id": "SKU-1", "price": 12.5}}, "quantity": int64(2)},
		map[string]any{"product": map[string]any{productSubject: map[string]any{"name": "Socks", "id": "SKU-2"}}},
	}
	return m
}

// refRegistry registers: id 1 the shipped event schema (inline Product, id before name); the shared Product type
// (name before id) as version 1 of productSubject under id 2; id 3 the event schema referring to it.
func refRegistry(t testing.TB) (reg *registrytest.Server, inline, withRef []byte) {
	t.Helper()
	reg = newRegistry(t)
	reg.Add(1, EventAvroSchema())
	reg.AddToSubject(productSubject, 2, productNameFirst)
	ref := registrytest.Reference{Name: productSubject, Subject: productSubject, Version: 1}
	reg.AddToSubject("events-value", 3, eventWithProductRef(t), ref)
	inline = mustEncodeConfluent(t, 1, "", EventToAvro(refEvent()))
	var err error
	withRef, err = EncodeAvroConfluent(3, eventWithProductRef(t), refAvro(), productNameFirst)
	if err != nil {
		t.Fatal(err)
	}
	return reg, inline, withRef
}

// TestAvroConfluentReferences: a writer schema using a type defined by a referenced subject decodes with that
// definition, whatever was decoded before — the same bytes give the same event in every order, with product
// ids and names where the producer put them.
func TestAvroConfluentReferences(t *testing.T) {
	orders := []struct {
		name  string
		order []string
	}{
		{"reference first", []string{"ref", "inline", "ref"}},
		{"inline first", []string{"inline", "ref", "inline", "ref"}},
		{"reference alone", []string{"ref", "ref"}},
	}
	for _, tc := range orders {
		t.Run(tc.name, func(t *testing.T) {
			reg, inline, withRef := refRegistry(t)
			d := mustAvroConfluent(t, registryConfig(reg))
			for i, which := range tc.order {
				data := inline
				if which == "ref" {
					data = withRef
				}
				var got Event
				if err := d.Decode(context.Background(), data, &got); err != nil {
					t.Fatalf("decode %d (%s): %v", i, which, err)
				}
				want := refEvent()
				if !reflect.DeepEqual(got.Items, want.Items) || got.EventName != want.EventName {
					t.Fatalf("decode %d (%s): items %+v, want %+v", i, which, got.Items, want.Items)
				}
			}
			if n := reg.VersionFetches(productSubject, 1); n > 1 {
				t.Fatalf("reference fetched %d times, want at most once", n)
			}
			if n := reg.Fetches(3); n > 1 {
				t.Fatalf("schema 3 fetched %d times, want at most once", n)
			}
		})
	}
}

// TestAvroConfluentNoSharedNames: the name a writer schema defines is never visible to another: a schema that
// uses com.commandersact.Product without defining it or referencing it fails, even after a schema defining it
// inline was decoded, and nothing lands in hamba's process-wide cache.
func TestAvroConfluentNoSharedNames(t *testing.T) {
	reg, inline, withRef := refRegistry(t)
	reg.Add(4, eventWithProductRef(t)) // the same text, registered without its reference
	d := mustAvroConfluent(t, registryConfig(reg))
	var ev Event
	if err := d.Decode(context.Background(), inline, &ev); err != nil {
		t.Fatal(err)
	}
	dangling := append([]byte{0, 0, 0, 0, 4}, withRef[5:]...)
	err := d.Decode(context.Background(), dangling, &ev)
	if !errors.Is(err, ErrSchema) || !strings.Contains(err.Error(), "schema id 4") || !strings.Contains(err.Error(), productSubject) {
		t.Fatalf("schema 4 uses a type it neither defines nor references: err = %v, want ErrSchema naming the id and the type", err)
	}
	for _, name := range []string{productSubject, "com.commandersact.Event", "com.commandersact.Item"} {
		if s := avro.DefaultSchemaCache.Get(name); s != nil {
			t.Errorf("hamba's process-wide cache holds %s: a writer schema was parsed into it", name)
		}
	}
}

// TestAvroConfluentReferenceGraph: nested references are followed depth first, a type referenced twice is
// fetched and parsed once, cycles and missing references are refused with the id and the reference named.
func TestAvroConfluentReferenceGraph(t *testing.T) {
	price := `{"type":"record","name":"Price","namespace":"com.commandersact","fields":[{"name":"amount","type":"double"}]}`
	// A Product using Price, defined by another subject.
	productWithPrice := `{"type":"record","name":"Product","namespace":"com.commandersact","fields":[
		{"name":"name","type":["null","string"],"default":null},{"name":"id","type":["null","string"],"default":null},
		{"name":"list_price","type":["null","com.commandersact.Price"],"default":null}]}`
	priceRef := registrytest.Reference{Name: "com.commandersact.Price", Subject: "price", Version: 1}
	productRef := registrytest.Reference{Name: productSubject, Subject: productSubject, Version: 1}

	reg := newRegistry(t)
	reg.AddToSubject("price", 20, price)
	reg.AddToSubject(productSubject, 21, productWithPrice, priceRef)
	// The event referencing Product (which references Price) and Price directly: Price is needed twice.
	reg.AddToSubject("events-value", 22, eventWithProductRef(t), productRef, priceRef)
	// A cycle: a/1 references b/1 which references a/1.
	reg.AddToSubject("a", 30, price, registrytest.Reference{Name: "b.B", Subject: "b", Version: 1})
	reg.AddToSubject("b", 31, price, registrytest.Reference{Name: "a.A", Subject: "a", Version: 1})
	reg.AddToSubject("events-value", 32, eventWithProductRef(t), registrytest.Reference{Name: "a.A", Subject: "a", Version: 1})
	// Missing: a subject that does not exist, and a version that does not.
	reg.AddToSubject("events-value", 33, eventWithProductRef(t), registrytest.Reference{Name: productSubject, Subject: "nope", Version: 1})
	reg.AddToSubject("events-value", 34, eventWithProductRef(t), registrytest.Reference{Name: productSubject, Subject: productSubject, Version: 7})
	// A reference whose text is not Avro.
	reg.AddToSubject("broken", 35, `{"type":"record","name":"Product"`)
	reg.AddToSubject("events-value", 36, eventWithProductRef(t), registrytest.Reference{Name: productSubject, Subject: "broken", Version: 1})

	d := mustAvroConfluent(t, registryConfig(reg))
	rec := map[string]any{"event_name": "purchase", "items": []any{map[string]any{"product": map[string]any{
		productSubject: map[string]any{"name": "Shoes", "id": "SKU-1", "list_price": map[string]any{"com.commandersact.Price": map[string]any{"amount": 3.5}}},
	}}}}
	good, err := EncodeAvroConfluent(22, eventWithProductRef(t), rec, price, productWithPrice)
	if err != nil {
		t.Fatal(err)
	}
	var ev Event
	if err := d.Decode(context.Background(), good, &ev); err != nil {
		t.Fatalf("nested references: %v", err)
	}
	if len(ev.Items) != 1 || ev.Items[0].Product.ID != "SKU-1" || ev.Items[0].Product.Name != "Shoes" {
		t.Fatalf("nested references: items %+v", ev.Items)
	}
	if n := reg.VersionFetches("price", 1); n != 1 {
		t.Fatalf("price/1 fetched %d times, want 1", n)
	}

	tests := []struct {
		name string
		id   int
		want []string // in the error text
	}{
		{"cycle", 32, []string{"schema id 32", "cycle", "a/1 → b/1 → a/1"}},
		{"missing subject", 33, []string{"schema id 33", productSubject, `subject "nope" version 1`, "40401"}},
		{"missing version", 34, []string{"schema id 34", productSubject, "version 7", "40402"}},
		{"reference not avro", 36, []string{"schema id 36", productSubject, `subject "broken"`, "not usable Avro"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			data := append([]byte{0, 0, 0, 0, byte(tc.id)}, good[5:]...)
			err := d.Decode(context.Background(), data, &ev)
			if !errors.Is(err, ErrSchema) || errors.Is(err, ErrRegistryUnavailable) {
				t.Fatalf("err = %v, want ErrSchema only", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("err = %v, want it to mention %q", err, w)
				}
			}
		})
	}
}

// TestAvroConfluentFailureRemembered: an id that fails for good costs one registry request per FailureTTL, not one
// per record; after the TTL it is asked again (and a schema fixed meanwhile is picked up). Failures of the
// registry itself are never remembered.
func TestAvroConfluentFailureRemembered(t *testing.T) {
	reg, _, withRef := refRegistry(t)
	reg.AddToSubject("events-value", 9, eventWithProductRef(t), registrytest.Reference{Name: productSubject, Subject: "later", Version: 1})
	now := time.Unix(1_700_000_000, 0)
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	src, err := newRegistryClient(registryConfig(reg))
	if err != nil {
		t.Fatal(err)
	}
	d, err := newAvroConfluent(src, Limits{}, 30*time.Second, clock)
	if err != nil {
		t.Fatal(err)
	}
	unknown := append([]byte{0, 0, 0, 0, 8}, withRef[5:]...)
	missingRef := append([]byte{0, 0, 0, 0, 9}, withRef[5:]...)
	var ev Event
	for range 50 {
		if err := d.Decode(context.Background(), unknown, &ev); !errors.Is(err, ErrSchema) {
			t.Fatalf("unknown id: err = %v", err)
		}
		err := d.Decode(context.Background(), missingRef, &ev)
		if !errors.Is(err, ErrSchema) || !strings.Contains(err.Error(), "schema id 9") || !strings.Contains(err.Error(), `"later"`) {
			t.Fatalf("missing reference: err = %v", err)
		}
	}
	if f, v := reg.Fetches(8), reg.VersionFetches("later", 1); f != 1 || v != 1 {
		t.Fatalf("50 records: id 8 fetched %d times, reference later/1 %d times; want 1 and 1", f, v)
	}

	// The reference is registered; after the TTL the id is asked again and decodes.
	reg.AddToSubject("later", 10, productNameFirst)
	mu.Lock()
	now = now.Add(31 * time.Second)
	mu.Unlock()
	if err := d.Decode(context.Background(), missingRef, &ev); err != nil {
		t.Fatalf("after the TTL, with the reference registered: %v", err)
	}
	if len(ev.Items) != 2 || ev.Items[0].Product.ID != "SKU-1" || ev.Items[0].Product.Name != "Shoes" {
		t.Fatalf("items %+v", ev.Items)
	}
	if f := reg.Fetches(9); f != 2 {
		t.Fatalf("id 9 fetched %d times, want 2 (once per TTL)", f)
	}

	// The registry failing is not remembered: each record asks again.
	reg.FailWith(503)
	for range 3 {
		if err := d.Decode(context.Background(), append([]byte{0, 0, 0, 0, 3}, withRef[5:]...), &ev); !errors.Is(err, ErrRegistryUnavailable) {
			t.Fatalf("503: err = %v", err)
		}
	}
	if f := reg.Fetches(3); f != 0 {
		t.Fatalf("refused requests counted as fetches: %d", f)
	}
	reg.FailWith(0)
	if err := d.Decode(context.Background(), withRef, &ev); err != nil {
		t.Fatalf("registry back: %v", err)
	}
}

// TestAvroConfluentReferencesConcurrent: many records of several ids sharing one reference, decoded at once,
// cost one fetch per id and one per reference, and each decodes with its own schema (run with -race).
func TestAvroConfluentReferencesConcurrent(t *testing.T) {
	reg, inline, withRef := refRegistry(t)
	ref := registrytest.Reference{Name: productSubject, Subject: productSubject, Version: 1}
	reg.AddToSubject("events-value", 5, eventWithProductRef(t), ref)
	reg.SetDelay(30 * time.Millisecond)
	d := mustAvroConfluent(t, registryConfig(reg))
	recs := [][]byte{inline, withRef, append([]byte{0, 0, 0, 0, 5}, withRef[5:]...)}
	var wg sync.WaitGroup
	errs := make(chan error, 90)
	start := make(chan struct{})
	for i := range 90 {
		wg.Go(func() {
			<-start
			var ev Event
			if err := d.Decode(context.Background(), recs[i%3], &ev); err != nil {
				errs <- err
				return
			}
			if !reflect.DeepEqual(ev.Items, refEvent().Items) {
				errs <- fmt.Errorf("record %d: items %+v", i%3, ev.Items)
			}
		})
	}
	close(start)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	for _, id := range []int{1, 3, 5} {
		if n := reg.Fetches(id); n != 1 {
			t.Errorf("schema %d fetched %d times, want 1", id, n)
		}
	}
	if n := reg.VersionFetches(productSubject, 1); n != 1 {
		t.Errorf("reference fetched %d times by two ids, want 1", n)
	}
}

// TestNoProcessWideSchemaCache fails if any Go file of the module calls hamba's avro.Parse family, touches
// avro.DefaultSchemaCache (tests may only read it, to check it stays empty), or imports hamba's registry client (which parses with avro.Parse): each of them lets
// one writer schema resolve names another defined.
func TestNoProcessWideSchemaCache(t *testing.T) {
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatalf("module root not found at %s: %v", root, err)
	}
	banned := map[string]bool{"Parse": true, "MustParse": true, "ParseFiles": true, "ParseBytes": true, "DefaultSchemaCache": true}
	const hamba = "github.com/hamba/avro/v2"
	files := 0
	err = filepath.WalkDir(root, func(path string, de fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if de.IsDir() {
			if n := de.Name(); path != root && (strings.HasPrefix(n, ".") || n == "testdata" || n == "vendor") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") {
			return nil
		}
		files++
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		local := ""
		for _, imp := range f.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			if p == hamba+"/registry" {
				t.Errorf("%s imports hamba's registry client, which parses schemas into the process-wide cache", rel)
			}
			if p == hamba {
				local = "avro"
				if imp.Name != nil {
					local = imp.Name.Name
				}
			}
		}
		if local == "" {
			return nil
		}
		allowed := map[ast.Node]bool{} // avro.DefaultSchemaCache.Get: a test checking the cache stays empty
		ast.Inspect(f, func(n ast.Node) bool {
			sel, ok := n.(*ast.SelectorExpr)
			if !ok {
				return true
			}
			if inner, ok := sel.X.(*ast.SelectorExpr); ok && sel.Sel.Name == "Get" && strings.HasSuffix(path, "_test.go") {
				allowed[inner] = true
			}
			if id, ok := sel.X.(*ast.Ident); ok && id.Name == local && banned[sel.Sel.Name] && !allowed[sel] {
				t.Errorf("%s uses %s.%s: parse with avro.ParseWithCache and a cache of the schema's own", rel, local, sel.Sel.Name)
			}
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if files < 50 {
		t.Fatalf("scanned %d Go files under %s, expected the whole module", files, root)
	}
}
