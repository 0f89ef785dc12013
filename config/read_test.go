package config

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// environ turns a map into os.Environ() form.
func environ(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k, v := range m {
		out = append(out, k+"="+v)
	}
	return out
}

// validEnv is a complete single-destination environment.
func validEnv(extra map[string]string) map[string]string {
	m := map[string]string{"CAPI_PIXEL_ID": "1234567890", "CAPI_ACCESS_TOKEN": "EAAB-valid"}
	for k, v := range extra {
		m[k] = v
	}
	return m
}

func problemFor(ps []Problem, env string) *Problem {
	for i := range ps {
		if ps[i].Env == env {
			return &ps[i]
		}
	}
	return nil
}

const twoNamedDestinations = "destinations:\n  - {name: shop, pixel_id: \"1\", access_token: a}\n  - {name: shop-fr, pixel_id: \"2\", access_token: b}\n"

func TestReadUnknownEnv(t *testing.T) {
	tests := []struct {
		name    string
		file    string
		env     string
		wantFix string
	}{
		{"misspelt global", "", "CAPI_CONSENT_CATEGRY", "did you mean CAPI_CONSENT_CATEGORY?"},
		{"singular of a list", "", "CAPI_KAFKA_BROKER", "did you mean CAPI_KAFKA_BROKERS?"},
		{"missing underscore", "", "CAPI_PIXELID", "did you mean CAPI_PIXEL_ID?"},
		{"misspelt per-destination key", twoNamedDestinations, "CAPI_DEST_SHOP_ACESS_TOKEN", "did you mean CAPI_DEST_SHOP_ACCESS_TOKEN?"},
		{"misspelt destination name", twoNamedDestinations, "CAPI_DEST_SHOPFR_PIXEL_ID", "did you mean CAPI_DEST_SHOP_FR_PIXEL_ID?"},
		{"unconfigured destination", twoNamedDestinations, "CAPI_DEST_GERMANY_PIXEL_ID",
			"no configured destination has the prefix CAPI_DEST_GERMANY_; the prefixes are CAPI_DEST_SHOP_, CAPI_DEST_SHOP_FR_"},
		{"nothing close", "", "CAPI_WHATEVER_THIS_IS", "remove it, or set CAPI_ALLOW_UNKNOWN_ENV=true"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := ""
			if tt.file != "" {
				path = writeFile(t, "c.yaml", tt.file)
			}
			_, problems := Read(path, environ(validEnv(map[string]string{tt.env: "2"})))
			p := problemFor(problems, tt.env)
			if p == nil {
				t.Fatalf("%s not reported; problems: %v", tt.env, problems)
			}
			if !strings.Contains(p.Fix, tt.wantFix) {
				t.Errorf("fix %q, want %q", p.Fix, tt.wantFix)
			}
			if len(problems) != 1 {
				t.Errorf("want only the unknown variable reported, got %v", problems)
			}
			if !strings.HasPrefix(p.String(), tt.env+": ") {
				t.Errorf("the line does not start with the variable: %s", p)
			}
		})
	}
}

// Every variable of the table, and the per-destination variables of every configured destination, are known.
func TestReadKnowsEveryTableVariable(t *testing.T) {
	path := writeFile(t, "c.yaml", twoNamedDestinations)
	vars := map[string]string{EnvAllowUnknown: "false"}
	for _, n := range KnownEnv() {
		vars[n] = "x"
	}
	for _, prefix := range []string{"CAPI_DEST_SHOP_", "CAPI_DEST_SHOP_FR_"} {
		for _, b := range destBindings() {
			vars[prefix+b.env] = "x"
		}
	}
	c, _ := Read(path, environ(vars))
	if len(c.Destinations) != 2 {
		t.Fatalf("destinations %d, want the file's 2", len(c.Destinations))
	}
	if got := unknownEnv(&c, vars); len(got) != 0 {
		t.Errorf("known variables reported as unknown: %v", got)
	}
	// Variables without the prefix are none of the loader's business.
	if got := unknownEnv(&c, map[string]string{"PATH": "/bin", "KAFKA_BROKERS": "x", "capi_pixel_id": "1"}); len(got) != 0 {
		t.Errorf("non-CAPI_ variables reported: %v", got)
	}
}

func TestReadAllowUnknownEnv(t *testing.T) {
	env := validEnv(map[string]string{"CAPI_CONSENT_CATEGRY": "2", EnvAllowUnknown: "true"})
	c, problems, warnings := Inspect("", environ(env))
	if len(problems) != 0 {
		t.Fatalf("problems with %s=true: %v", EnvAllowUnknown, problems)
	}
	w := problemFor(warnings, "CAPI_CONSENT_CATEGRY")
	if w == nil || !strings.Contains(w.Fix, "CAPI_CONSENT_CATEGORY") || !strings.Contains(w.Fix, EnvAllowUnknown) {
		t.Errorf("the tolerated variable is not a warning with its suggestion: %v", warnings)
	}
	if c.Destinations[0].ConsentCategory != "" {
		t.Errorf("an unknown variable changed the configuration")
	}

	env[EnvAllowUnknown] = "perhaps"
	_, problems, _ = Inspect("", environ(env))
	if problemFor(problems, EnvAllowUnknown) == nil || problemFor(problems, "CAPI_CONSENT_CATEGRY") == nil {
		t.Errorf("an invalid %s must be a problem and allow nothing: %v", EnvAllowUnknown, problems)
	}
}

// One pass: a bad duration does not hide the range errors of the same file, nor the environment's problems; every
// problem carries its line or variable; the key that could not be read is reported once.
func TestInspectReportsEverythingInOnePass(t *testing.T) {
	path := writeFile(t, "c.yaml", `kafka:
  brokers: [localhost:9092]
  max_in_flight_records: 0
destinations:
  - name: shop
    pixel_id: "123"
    retry:
      initial_backoff: 10x
      max_backoff: 100ms
    batch: {max_events: 5000, max_in_flight: 0}
    breaker: {consecutive_failures: 0}
  - name: fr
    access_token: b
`)
	env := map[string]string{"CAPI_DEST_SHOP_ACCESS_TOKEN": "a", "CAPI_DEST_SHOP_BATCH_LINGER": "-1s",
		"CAPI_DEST_FR_WINDOW_MAX_AGE": "soon", "CAPI_LOG_LEVL": "debug"}
	_, problems, _ := Inspect(path, environ(env))
	type where struct {
		key, env string
		line     int
	}
	want := []where{
		{"kafka.max_in_flight_records", "", 3},
		{"destinations[0].retry.initial_backoff", "", 8},
		{"destinations[0].batch.max_events", "", 10},
		{"destinations[0].batch.max_in_flight", "", 10},
		{"destinations[0].breaker.consecutive_failures", "", 11},
		{"destinations[1].pixel_id", "", 12}, // not in the file: the line of the destination
		{"destinations[1].window.max_age", "CAPI_DEST_FR_WINDOW_MAX_AGE", 0},
		{"destinations[0].batch.linger", "CAPI_DEST_SHOP_BATCH_LINGER", 0},
		{"", "CAPI_LOG_LEVL", 0},
	}
	got := map[where]bool{}
	for _, p := range problems {
		got[where{p.Key, p.Env, p.Line}] = true
		if p.Line > 0 && p.File != path {
			t.Errorf("%s: file %q, want %q", p, p.File, path)
		}
	}
	for _, w := range want {
		if !got[w] {
			t.Errorf("missing %+v", w)
		}
	}
	if len(problems) != len(want) {
		t.Errorf("got %d problems, want %d:\n%s", len(problems), len(want), joinProblems(problems))
	}
	// The file's problems come first, in line order.
	last := 0
	for i, p := range problems {
		if p.File == "" {
			for _, q := range problems[i:] {
				if q.File != "" {
					t.Errorf("file problem %s after a non-file one", q)
				}
			}
			break
		}
		if p.Line < last {
			t.Errorf("%s out of line order", p)
		}
		last = p.Line
	}
}

func joinProblems(ps []Problem) string {
	lines := make([]string, len(ps))
	for i, p := range ps {
		lines[i] = p.String()
	}
	return strings.Join(lines, "\n")
}

// A file that does not parse gives its syntax error with the right line, and the environment's problems, but no
// complaint about keys the file may well set.
func TestInspectSyntaxError(t *testing.T) {
	path := writeFile(t, "c.yaml", "kafka:\n  brokers: [localhost:9092\n  topics: [events]\n")
	_, problems, _ := Inspect(path, environ(map[string]string{"CAPI_PIXELID": "1"}))
	if len(problems) != 2 {
		t.Fatalf("want the syntax error and the unknown variable, got:\n%s", joinProblems(problems))
	}
	if p := problems[0]; p.File != path || p.Line != 2 || !strings.Contains(p.Message, "YAML syntax error") {
		t.Errorf("syntax problem %+v, want %s line 2", p, path)
	}
}

func TestSyntaxErrorLine(t *testing.T) {
	tests := []struct {
		doc  string
		line int
	}{
		{"kafka:\n  brokers: [a\n", 2},      // parser error: yaml.v3 says line 1
		{"a: 1\nb: 2\nc: [1, 2\nd: 3\n", 3}, // parser error: yaml.v3 says line 2
		{"a: 1\nb: {x: 1\n", 2},             // parser error
		{"- a\nb: 1\n", 2},                  // parser error
		{"a:\n  b: 1\n c: 2\n", 3},          // parser error
		{"a: 1\nb: \"x\n", 2},               // scanner error: yaml.v3 is right
		{"kafka:\n\tbrokers: a\n", 2},       // scanner error (tab)
		{"a: 1\nb: 2\n  c: 3\n", 3},         // scanner error
		{"a: b: c\n", 1},                    // scanner error on line 1: yaml.v3 gives no line
		{"x: 1\nw: *b\n", 0},                // not positional
	}
	for _, tt := range tests {
		var n yaml.Node
		err := yaml.Unmarshal([]byte(tt.doc), &n)
		if err == nil {
			t.Fatalf("%q parsed", tt.doc)
		}
		if line, msg := syntaxErrorLine(err); line != tt.line || strings.HasPrefix(msg, "yaml:") {
			t.Errorf("%q (%v): line %d message %q, want line %d", tt.doc, err, line, msg, tt.line)
		}
	}
}

// A token or app secret with whitespace is a problem naming the position, never the value; one trailing line break
// of a secret file is not.
func TestTokenWhitespace(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		file    string // content of the token file, when set
		want    string // "" for no problem
		wantEnv string
	}{
		{name: "clean", env: map[string]string{"CAPI_ACCESS_TOKEN": "EAABq7z9x"}},
		{name: "inner space", env: map[string]string{"CAPI_ACCESS_TOKEN": "EAAB q7z9x"}, want: "a space at character 5 of 10", wantEnv: "CAPI_ACCESS_TOKEN"},
		{name: "leading space", env: map[string]string{"CAPI_ACCESS_TOKEN": " EAABq7z9x"}, want: "a space at character 1", wantEnv: "CAPI_ACCESS_TOKEN"},
		{name: "env newline trimmed once", env: map[string]string{"CAPI_ACCESS_TOKEN": "EAABq7z9x\n"}},
		{name: "inner newline", env: map[string]string{"CAPI_ACCESS_TOKEN": "EAAB\nq7z9x"}, want: "a line break at character 5", wantEnv: "CAPI_ACCESS_TOKEN"},
		{name: "app secret tab", env: map[string]string{"CAPI_ACCESS_TOKEN": "EAABq7z9x", "CAPI_APP_SECRET": "ab\tzq"}, want: "a tab at character 3", wantEnv: "CAPI_APP_SECRET"},
		{name: "file with one newline", file: "EAABq7z9x\n"},
		{name: "file with CRLF", file: "EAABq7z9x\r\n"},
		{name: "file with two newlines", file: "EAABq7z9x\n\n", want: "a line break at character 10 of 10", wantEnv: "CAPI_ACCESS_TOKEN_FILE"},
		{name: "file with a pasted space", file: "EAAB q7z9x\n", want: "a space at character 5 of 10", wantEnv: "CAPI_ACCESS_TOKEN_FILE"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := map[string]string{"CAPI_PIXEL_ID": "1234567890"}
			for k, v := range tt.env {
				env[k] = v
			}
			if tt.file != "" {
				env["CAPI_ACCESS_TOKEN_FILE"] = writeFile(t, "token", tt.file)
			}
			c, problems, _ := Inspect("", environ(env))
			if tt.want == "" {
				if len(problems) != 0 {
					t.Fatalf("problems: %v", problems)
				}
				if tok := c.Destinations[0].AccessToken.Reveal(); tok != "EAABq7z9x" {
					t.Fatalf("token %q, want EAABq7z9x", tok)
				}
				return
			}
			if len(problems) != 1 || !strings.Contains(problems[0].Message, tt.want) || problems[0].Env != tt.wantEnv {
				t.Fatalf("problems %v, want one from %s saying %q", problems, tt.wantEnv, tt.want)
			}
			if s := problems[0].String(); strings.Contains(s, "q7z9x") || strings.Contains(s, "zq") {
				t.Errorf("the message reveals the secret: %s", s)
			}
		})
	}
}

// EffectiveYAML is a configuration file: loaded back, it gives the same configuration, secrets redacted; values
// from the file and the environment say where they came from.
func TestEffectiveYAML(t *testing.T) {
	path := writeFile(t, "c.yaml", "kafka:\n  brokers: [k1:9092, k2:9092]\n  group: g\ndestinations:\n  - name: shop\n    access_token: EAAB-file-secret\n    retry: {initial_backoff: 10x}\n")
	env := map[string]string{"CAPI_DEST_SHOP_PIXEL_ID": "123", "CAPI_DEST_SHOP_APP_SECRET": "app-secret-value",
		"CAPI_KAFKA_SASL_MECHANISM": "PLAIN", "CAPI_KAFKA_SASL_USERNAME": "u", "CAPI_KAFKA_SASL_PASSWORD": "sasl-secret"}
	c, _ := Read(path, environ(env))
	out, err := c.EffectiveYAML()
	if err != nil {
		t.Fatal(err)
	}
	text := string(out)
	for _, secret := range []string{"EAAB-file-secret", "app-secret-value", "sasl-secret"} {
		if strings.Contains(text, secret) {
			t.Errorf("the output contains %q:\n%s", secret, text)
		}
	}
	for _, want := range []string{
		"group: g # from " + path + ":3",
		`pixel_id: "123" # from CAPI_DEST_SHOP_PIXEL_ID`,
		"initial_backoff: 500ms # default: the value set for it is invalid",
		"password: '[redacted]' # from CAPI_KAFKA_SASL_PASSWORD",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("output lacks %q:\n%s", want, text)
		}
	}
	back, err := Load(writeFile(t, "back.yaml", text), nil)
	if err != nil {
		t.Fatalf("the printed configuration does not load: %v\n%s", err, text)
	}
	// Compared as YAML: an empty list or map read back is not nil, which means the same.
	got, _ := yaml.Marshal(back)
	want, _ := yaml.Marshal(c.Redacted())
	if string(got) != string(want) {
		t.Errorf("loaded back:\n%s\nwant:\n%s", got, want)
	}
}

// Load's contract is unchanged: on error the zero Config and the LoadErrors, and no sources attached.
func TestLoadKeepsItsContract(t *testing.T) {
	c, err := Load(writeFile(t, "c.yaml", "log_level: debug\n"), nil)
	if err != nil || c.src != nil || c.LogLevel != "debug" {
		t.Fatalf("Load = %+v, %v", c.LogLevel, err)
	}
	c, err = Load(writeFile(t, "c.yaml", "kafka:\n  session_timeout: 10x\n"), nil)
	var le *LoadError
	if !errors.As(err, &le) || !reflect.DeepEqual(c, Config{}) {
		t.Fatalf("Load with a bad value = %v, %v", c, err)
	}
}
