package registrytest

import (
	"encoding/json"
	"fmt"
)

// ReferenceTo returns the Avro schema text with its one inline definition of the record named record (its short
// name) replaced by the type name ref, which the schema then no longer defines: the form a producer registers when
// a shared type lives under its own subject and the schema refers to it (a schema reference). It fails unless
// exactly one definition was replaced. The result is compact JSON with object keys sorted.
func ReferenceTo(schema, record, ref string) (string, error) {
	var root any
	if err := json.Unmarshal([]byte(schema), &root); err != nil {
		return "", fmt.Errorf("registrytest: schema: %w", err)
	}
	replaced := 0
	var walk func(v any) any
	walk = func(v any) any {
		switch x := v.(type) {
		case map[string]any:
			if x["type"] == "record" && x["name"] == record {
				replaced++
				return ref
			}
			for k, c := range x {
				x[k] = walk(c)
			}
		case []any:
			for i, c := range x {
				x[i] = walk(c)
			}
		}
		return v
	}
	root = walk(root)
	if replaced != 1 {
		return "", fmt.Errorf("registrytest: replaced %d definitions of record %s, want 1", replaced, record)
	}
	b, err := json.Marshal(root)
	return string(b), err
}
