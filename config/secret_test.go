package config

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/rs/zerolog"
	"gopkg.in/yaml.v3"
)

var secretValues = []string{"tok-AAAA", "app-BBBB", "sasl-CCCC", "reg-DDDD", "tok2-EEEE"}

// secretConfig has every secret set, to distinct values, in two destinations.
func secretConfig(t *testing.T) Config {
	t.Helper()
	c := validConfig()
	c.Destinations[0].AccessToken = Secret(secretValues[0])
	c.Destinations[0].AppSecret = Secret(secretValues[1])
	c.Kafka.SASL = SASL{Mechanism: SASLScramSHA512, Username: "svc", Password: Secret(secretValues[2])}
	c.Kafka.SchemaRegistry.Password = Secret(secretValues[3])
	d := DefaultDestination()
	d.Name, d.PixelID, d.AccessToken = "b", "2", Secret(secretValues[4])
	c.Destinations = append(c.Destinations, d)
	return c
}

func TestSecretsNeverPrinted(t *testing.T) {
	c := secretConfig(t)
	renderings := map[string]func() (string, error){
		"%v":       func() (string, error) { return fmt.Sprintf("%v", c), nil },
		"%+v":      func() (string, error) { return fmt.Sprintf("%+v", c), nil },
		"%#v":      func() (string, error) { return fmt.Sprintf("%#v", c), nil },
		"%s":       func() (string, error) { return fmt.Sprintf("%s", c.Destinations[0].AccessToken), nil },
		"%q":       func() (string, error) { return fmt.Sprintf("%q", c.Destinations[0].AccessToken), nil },
		"%x":       func() (string, error) { return fmt.Sprintf("%x", c.Destinations[0].AccessToken), nil },
		"%d":       func() (string, error) { return fmt.Sprintf("%d", c.Destinations[0].AccessToken), nil },
		"pointer":  func() (string, error) { return fmt.Sprintf("%+v", &c), nil },
		"Println":  func() (string, error) { return fmt.Sprintln(c.Kafka.SASL, c.Destinations), nil },
		"String()": func() (string, error) { return c.Destinations[0].AccessToken.String(), nil },
		"json": func() (string, error) {
			b, err := json.Marshal(c)
			return string(b), err
		},
		"yaml": func() (string, error) {
			b, err := yaml.Marshal(c)
			return string(b), err
		},
		"zerolog object": func() (string, error) {
			var buf bytes.Buffer
			l := zerolog.New(&buf)
			l.Info().Object("config", c).Msg("")
			return buf.String(), nil
		},
		"zerolog interface": func() (string, error) {
			var buf bytes.Buffer
			l := zerolog.New(&buf)
			l.Info().Interface("config", c).Msg("")
			return buf.String(), nil
		},
		"Redacted %#v": func() (string, error) { return fmt.Sprintf("%#v", c.Redacted()), nil },
	}
	for name, render := range renderings {
		t.Run(name, func(t *testing.T) {
			out, err := render()
			if err != nil {
				t.Fatal(err)
			}
			if leak := containsAny(out, secretValues...); leak != "" {
				t.Fatalf("output contains %q:\n%s", leak, out)
			}
			if !strings.Contains(out, Redaction) {
				t.Fatalf("output shows no redaction marker:\n%s", out)
			}
		})
	}
}

func TestRedacted(t *testing.T) {
	c := secretConfig(t)
	r := c.Redacted()
	for _, s := range []Secret{r.Destinations[0].AccessToken, r.Destinations[0].AppSecret, r.Destinations[1].AccessToken,
		r.Kafka.SASL.Password, r.Kafka.SchemaRegistry.Password} {
		if s.Reveal() != Redaction {
			t.Errorf("secret not redacted: Reveal() = %q", s.Reveal())
		}
	}
	if r.Destinations[1].AppSecret != "" {
		t.Error("an unset secret must stay empty, not become [redacted]")
	}
	// The original is untouched, including shared slices.
	if c.Destinations[0].AccessToken.Reveal() != secretValues[0] || c.Kafka.SASL.Password.Reveal() != secretValues[2] {
		t.Error("Redacted modified the original")
	}
	r.Destinations[0].Name = "changed"
	r.Kafka.Brokers[0] = "changed:1"
	if c.Destinations[0].Name == "changed" || c.Kafka.Brokers[0] == "changed:1" {
		t.Error("Redacted shares memory with the original")
	}
	// Everything that is not a secret is preserved.
	r = c.Redacted()
	r.Destinations[0].AccessToken, r.Destinations[0].AppSecret = c.Destinations[0].AccessToken, c.Destinations[0].AppSecret
	r.Destinations[1].AccessToken = c.Destinations[1].AccessToken
	r.Kafka.SASL.Password, r.Kafka.SchemaRegistry.Password = c.Kafka.SASL.Password, c.Kafka.SchemaRegistry.Password
	if fmt.Sprintf("%#v", r) != fmt.Sprintf("%#v", c) {
		t.Error("Redacted changed non-secret fields")
	}
}

func TestSecretDecodesNormally(t *testing.T) {
	var v struct {
		S Secret `yaml:"s" json:"s"`
	}
	if err := yaml.Unmarshal([]byte("s: abc"), &v); err != nil || v.S.Reveal() != "abc" {
		t.Fatalf("yaml: %q %v", v.S.Reveal(), err)
	}
	if err := json.Unmarshal([]byte(`{"s":"def"}`), &v); err != nil || v.S.Reveal() != "def" {
		t.Fatalf("json: %q %v", v.S.Reveal(), err)
	}
	if !v.S.IsSet() || Secret("").IsSet() {
		t.Error("IsSet")
	}
	if got := fmt.Sprintf("%v|%#v", Secret(""), Secret("")); got != `|config.Secret("")` {
		t.Errorf("empty secret prints %q", got)
	}
}
