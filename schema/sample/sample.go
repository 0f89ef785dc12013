// Package sample generates realistic Commanders Act events (purchases, page views, add-to-carts, leads, offline
// purchases; with and without consent and personal data) for the demo, produce-samples, the benchmark and tests.
// Output is deterministic for a seed, so runs can be compared.
package sample

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"time"
)

// Kind says what a generated event should become, so tests can check every outcome.
type Kind int

// Kinds of generated events.
const (
	Deliverable   Kind = iota // consented, enough user data: goes to Facebook
	NoConsent                 // consent category missing: no_consent
	Anonymous                 // page view with fbp/ip/ua only: insufficient_user_data
	PurchaseNoPII             // purchase without email or phone: missing_pii_for_purchase
	TooOld                    // event_timestamp 10 days back: event_too_old
	Poisoned                  // deliverable, but its event_id is one Facebook rejects: facebook_rejected
	InvalidJSON               // not JSON: invalid_payload
)

// String names the kind after what becomes of it: "deliverable", else the DLQ reason (capi-reason) the connector
// gives it, so the demo's and produce-samples' counts read like the DLQ and the metrics.
func (k Kind) String() string {
	return [...]string{"deliverable", "no_consent", "insufficient_user_data", "missing_pii_for_purchase", "event_too_old",
		"facebook_rejected", "invalid_payload"}[k]
}

// ConsentCategory is the category every consented sample grants; configure the destination with it.
const ConsentCategory = "2"

// Event is one generated record.
type Event struct {
	Key     []byte
	Value   []byte
	EventID string // "" for InvalidJSON
	Kind    Kind
}

// Generator makes events. Mix weights are percentages of the remaining (non-special) events.
type Generator struct {
	r   *rand.Rand
	now time.Time
	n   int
	// PoisonEvery / TooOldEvery / InvalidEvery make every Nth event that kind (0 = never).
	PoisonEvery, TooOldEvery, InvalidEvery int
	// RunID is put in event ids so runs don't collide in one Facebook dataset.
	RunID string
}

// New returns a generator whose events are timestamped around now.
func New(seed uint64, now time.Time) *Generator {
	return &Generator{r: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), now: now, RunID: strconv.FormatUint(seed, 36)}
}

var (
	firstNames = []string{"Jean", "Marie", "Élodie", "François", "Zoë", "Lucas", "Chloé", "Hugo", "Inès", "Noah"}
	lastNames  = []string{"Martin", "Bernard", "Dubois", "Thomas", "Robert", "Petit", "Durand", "Leroy", "Moreau", "Lefèvre"}
	cities     = []struct{ city, zip string }{{"Paris", "75011"}, {"Lyon", "69003"}, {"Marseille", "13008"}, {"Lille", "59000"}, {"Nantes", "44000"}}
	products   = []struct {
		id, name, cat string
		price         float64
	}{{"SKU-1001", "Trail running shoes", "shoes", 129.9}, {"SKU-2002", "Merino socks", "socks", 14.5},
		{"SKU-3003", "Rain jacket", "jackets", 89}, {"SKU-4004", "Headlamp", "accessories", 39.99}}
	agents = []string{
		"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36",
		"Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1",
		"Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
	}
)

// Next returns the next event.
func (g *Generator) Next() Event {
	g.n++
	n := g.n
	id := fmt.Sprintf("demo-%s-%07d", g.RunID, n)
	key := []byte(fmt.Sprintf("user-%d", g.r.IntN(5000)))
	switch {
	case g.InvalidEvery > 0 && n%g.InvalidEvery == 0:
		return Event{Key: key, Value: []byte(`{"event_name":"purchase","value":12.5,` + "\x00broken"), Kind: InvalidJSON}
	case g.PoisonEvery > 0 && n%g.PoisonEvery == 0:
		return Event{Key: key, Value: g.purchase(id, true, true, 0), EventID: id, Kind: Poisoned}
	case g.TooOldEvery > 0 && n%g.TooOldEvery == 0:
		return Event{Key: key, Value: g.purchase(id, true, true, 10*24*time.Hour), EventID: id, Kind: TooOld}
	}
	switch x := g.r.IntN(100); {
	case x < 35:
		return Event{Key: key, Value: g.purchase(id, true, true, 0), EventID: id, Kind: Deliverable}
	case x < 55:
		return Event{Key: key, Value: g.pageView(id, true, true), EventID: id, Kind: Deliverable}
	case x < 65:
		return Event{Key: key, Value: g.addToCart(id), EventID: id, Kind: Deliverable}
	case x < 70:
		return Event{Key: key, Value: g.offlinePurchase(id), EventID: id, Kind: Deliverable}
	case x < 82:
		return Event{Key: key, Value: g.purchase(id, false, true, 0), EventID: id, Kind: NoConsent}
	case x < 92:
		return Event{Key: key, Value: g.pageView(id, true, false), EventID: id, Kind: Anonymous}
	default:
		return Event{Key: key, Value: g.purchase(id, true, false, 0), EventID: id, Kind: PurchaseNoPII}
	}
}

func (g *Generator) ts(age time.Duration) int64 {
	jitter := time.Duration(g.r.IntN(3600)) * time.Second
	return g.now.Add(-age - jitter).UnixMilli()
}

func (g *Generator) consent(ok bool) string {
	if ok {
		return `"consent_categories":["1","` + ConsentCategory + `","4"]`
	}
	return `"consent_categories":["1"]`
}

func (g *Generator) device() string {
	ms := g.now.Add(-24 * time.Hour).UnixMilli()
	return fmt.Sprintf(`"device":{"ip":"203.0.113.%d","user_agent":%q,"cookie":"_fbp=fb.1.%d.%d; lang=fr"}`,
		1+g.r.IntN(250), agents[g.r.IntN(len(agents))], ms, 1000000000+g.r.IntN(999999999))
}

func (g *Generator) user(pii bool) string {
	fn, ln := firstNames[g.r.IntN(len(firstNames))], lastNames[g.r.IntN(len(lastNames))]
	c := cities[g.r.IntN(len(cities))]
	if !pii {
		return fmt.Sprintf(`"user":{"id":"C%d","city":%q,"zipcode":%q,"country":"FR"}`, g.r.IntN(100000), c.city, c.zip)
	}
	return fmt.Sprintf(`"user":{"id":"C%d","email":"%s.%s%d@example.com","phone":"06 %02d %02d %02d %02d","firstname":%q,"lastname":%q,"gender":"%s","birthdate":"19%02d-%02d-%02d","city":%q,"zipcode":%q,"country":"FR"}`,
		g.r.IntN(100000), asciiLower(fn), asciiLower(ln), g.r.IntN(100), g.r.IntN(100), g.r.IntN(100), g.r.IntN(100), g.r.IntN(100),
		fn, ln, []string{"f", "m"}[g.r.IntN(2)], 50+g.r.IntN(50), 1+g.r.IntN(12), 1+g.r.IntN(28), c.city, c.zip)
}

func asciiLower(s string) string {
	out := make([]byte, 0, len(s))
	for _, r := range s {
		switch {
		case r >= 'A' && r <= 'Z':
			out = append(out, byte(r-'A'+'a'))
		case r >= 'a' && r <= 'z':
			out = append(out, byte(r))
		case r == 'é' || r == 'è' || r == 'ë':
			out = append(out, 'e')
		case r == 'ç':
			out = append(out, 'c')
		case r == 'ï':
			out = append(out, 'i')
		}
	}
	return string(out)
}

func (g *Generator) items() (string, float64) {
	n := 1 + g.r.IntN(3)
	s, total := "", 0.0
	for i := range n {
		p := products[g.r.IntN(len(products))]
		q := 1 + g.r.IntN(2)
		if i > 0 {
			s += ","
		}
		s += fmt.Sprintf(`{"product":{"id":%q,"name":%q,"price":%g,"currency":"EUR","category_1":%q},"quantity":%d}`, p.id, p.name, p.price, p.cat, q)
		total += p.price * float64(q)
	}
	return "[" + s + "]", float64(int(total*100)) / 100
}

func (g *Generator) purchase(id string, consent, pii bool, age time.Duration) []byte {
	items, total := g.items()
	return fmt.Appendf(nil, `{"event_name":"purchase","id":"ORD-%s","value":%g,"currency":"EUR","payment_method":"card",%s,%s,"items":%s,"context":{"event_timestamp":%d,"page":{"url":"https://shop.example.com/checkout/confirmation","referrer":"https://shop.example.com/cart"},%s},"integrations":{"facebook":{"event_id":%q}}}`,
		id, total, g.consent(consent), g.user(pii), items, g.ts(age), g.device(), id)
}

func (g *Generator) pageView(id string, consent, pii bool) []byte {
	if !pii {
		return fmt.Appendf(nil, `{"event_name":"page_view",%s,"context":{"event_timestamp":%d,"page":{"url":"https://shop.example.com/","referrer":"https://www.example.org/"},%s},"integrations":{"facebook":{"event_id":%q}}}`,
			g.consent(consent), g.ts(0), g.device(), id)
	}
	return fmt.Appendf(nil, `{"event_name":"page_view","page_type":"product",%s,%s,"context":{"event_timestamp":%d,"page":{"url":"https://shop.example.com/p/%d","referrer":"https://shop.example.com/"},%s},"integrations":{"facebook":{"event_id":%q}}}`,
		g.consent(consent), g.user(true), g.ts(0), g.r.IntN(1000), g.device(), id)
}

func (g *Generator) addToCart(id string) []byte {
	items, total := g.items()
	return fmt.Appendf(nil, `{"event_name":"add_to_cart","value":%g,"currency":"EUR",%s,%s,"items":%s,"context":{"event_timestamp":%d,"page":{"url":"https://shop.example.com/cart"},%s},"integrations":{"facebook":{"event_id":%q}}}`,
		total, g.consent(true), g.user(true), items, g.ts(0), g.device(), id)
}

func (g *Generator) offlinePurchase(id string) []byte {
	items, total := g.items()
	return fmt.Appendf(nil, `{"event_name":"purchase","type":"offline","id":"STORE-%s","value":%g,"currency":"EUR",%s,%s,"items":%s,"context":{"event_timestamp":%d},"event_id":%q}`,
		id, total, g.consent(true), g.user(true), items, g.ts(48*time.Hour), id)
}
