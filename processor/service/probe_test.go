package service

import (
	"testing"
)

func TestDialAddr(t *testing.T) {
	for in, want := range map[string]string{
		":9464": "127.0.0.1:9464", "0.0.0.0:9464": "127.0.0.1:9464", "[::]:9464": "[::1]:9464",
		"10.0.0.5:80": "10.0.0.5:80", "ops.internal:9464": "ops.internal:9464",
	} {
		got, err := DialAddr(in)
		if err != nil || got != want {
			t.Errorf("DialAddr(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"9464", "host:", ""} {
		if got, err := DialAddr(in); err == nil {
			t.Errorf("DialAddr(%q) = %q, want an error", in, got)
		}
	}
}
