package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"strings"

	"github.com/capi-connector/capi-connector/processor/capi/capitest"
	"github.com/capi-connector/capi-connector/processor/service"
)

// cmdGraphSimulator serves the Graph API simulator until interrupted.
func cmdGraphSimulator(fs *flag.FlagSet) action {
	listen := fs.String("listen", "127.0.0.1:8090", "address to listen on")
	pixels := fs.String("pixels", "", "comma-separated pixel_id=token pairs that exist (default: any numeric pixel with any token)")
	appSecret := fs.String("app-secret", "", "require appsecret_proof computed with this app secret")
	latency := fs.Duration("latency", 0, "latency added to every request")
	errorRate := fs.Float64("error-rate", 0, "fraction of requests answered with a transient 5xx error (0..1)")
	throttle := fs.Bool("throttle", false, "answer every request with a throttling error")
	tokenExpired := fs.Bool("token-expired", false, "answer every request with 190 (token expired)")
	poison := fs.String("poison", "", "comma-separated event_ids that Facebook rejects (100/2804019)")
	return func(ctx context.Context, _ []string, _ io.Reader, stdout, stderr io.Writer) error {
		cfg := capitest.Config{AcceptAnyPixel: *pixels == "", AppSecret: *appSecret, MaxRecordedEvents: 100000}
		if *pixels != "" {
			cfg.AccessTokens = map[string]string{}
			for _, kv := range strings.Split(*pixels, ",") {
				id, tok, ok := strings.Cut(kv, "=")
				if !ok || id == "" || tok == "" {
					return usagef("--pixels: want pixel_id=token pairs, got %q", kv)
				}
				cfg.AccessTokens[id] = tok
			}
		}
		cfg.Faults = capitest.Faults{Latency: *latency, ErrorRate: *errorRate, Throttle: *throttle, TokenExpired: *tokenExpired}
		if *poison != "" {
			cfg.Faults.PoisonedEventIDs = strings.Split(*poison, ",")
		}
		sim, err := capitest.New(cfg)
		if err != nil {
			return usagef("%v", err)
		}
		ln, err := net.Listen("tcp", *listen)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "graph simulator listening on http://%s (control: /_sim/faults, /_sim/events, /_sim/stats, /_sim/reset; /healthz)\n", ln.Addr())
		return service.ServeSimulator(ctx, ln, sim)
	}
}
