// Command oidc is a small OpenID Connect token endpoint for the secured real-broker suite (test/kafka/start.sh with
// CAPI_KAFKA_SECURED=1): it issues RS256 JWT access tokens by the OAuth 2.0 client credentials grant, with the
// client authenticated by HTTP Basic (client_secret_basic, RFC 6749 §2.3.1), and serves the signing key as a JWKS,
// which Kafka's OAuthBearerValidatorCallbackHandler fetches to validate the tokens the connector presents — the
// production path, not an unsecured test token.
//
// It is test equipment, loopback only:
//
//	oidc -listen 127.0.0.1:0 -addr-file FILE -clients FILE [-ttl 8s] [-issuer URL]
//
// The clients file has one client per line: "client_id secret [audience]" (audience defaults to "kafka"; a client
// with another audience gets tokens the broker refuses). Endpoints:
//
//	POST /token                         grant_type=client_credentials, Basic auth; optional scope
//	GET  /jwks                          the public key
//	GET  /.well-known/openid-configuration
//	GET  /_ctl/stats                    {"tokens_issued":N,"by_client":{…},"refused":N,"failed":N}
//	PUT  /_ctl/fail?status=503          make /token answer that status until DELETE /_ctl/fail
package main

import (
	"bufio"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log"
	"math/big"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

type client struct {
	secret, audience string
}

type server struct {
	key     *rsa.PrivateKey
	kid     string
	issuer  string
	ttl     time.Duration
	clients map[string]client

	mu       sync.Mutex
	issued   int
	byClient map[string]int
	refused  int
	failed   int
	failWith int // HTTP status /token answers while non-zero
}

func main() {
	listen := flag.String("listen", "127.0.0.1:0", "listen address (loopback)")
	addrFile := flag.String("addr-file", "", "write the bound address to this file once listening")
	clientsFile := flag.String("clients", "", "file of clients, one \"client_id secret [audience]\" per line")
	ttl := flag.Duration("ttl", 8*time.Second, "access token lifetime")
	issuer := flag.String("issuer", "", "iss claim (default http://<bound address>)")
	flag.Parse()
	if err := run(*listen, *addrFile, *clientsFile, *issuer, *ttl); err != nil {
		log.Fatalf("oidc: %v", err)
	}
}

func run(listen, addrFile, clientsFile, issuer string, ttl time.Duration) error {
	clients, err := readClients(clientsFile)
	if err != nil {
		return err
	}
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return err
	}
	addr := ln.Addr().String()
	if issuer == "" {
		issuer = "http://" + addr
	}
	sum := sha256.Sum256(key.N.Bytes())
	s := &server{key: key, kid: base64.RawURLEncoding.EncodeToString(sum[:8]), issuer: issuer, ttl: ttl,
		clients: clients, byClient: map[string]int{}}
	if addrFile != "" {
		if err := os.WriteFile(addrFile+".tmp", []byte(addr+"\n"), 0o600); err != nil {
			return err
		}
		if err := os.Rename(addrFile+".tmp", addrFile); err != nil {
			return err
		}
	}
	log.Printf("oidc: serving on %s (issuer %s, token lifetime %s, %d clients)", addr, issuer, ttl, len(clients))
	srv := &http.Server{Handler: s.routes(), ReadHeaderTimeout: 10 * time.Second}
	return srv.Serve(ln)
}

func readClients(path string) (map[string]client, error) {
	if path == "" {
		return nil, errors.New("-clients is required")
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	out := map[string]client{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) == 0 || strings.HasPrefix(fields[0], "#") {
			continue
		}
		if len(fields) < 2 {
			return nil, fmt.Errorf("%s: a client line needs an id and a secret", path)
		}
		c := client{secret: fields[1], audience: "kafka"}
		if len(fields) > 2 {
			c.audience = fields[2]
		}
		out[fields[0]] = c
	}
	return out, sc.Err()
}

func (s *server) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /token", s.token)
	mux.HandleFunc("GET /jwks", s.jwks)
	mux.HandleFunc("GET /.well-known/openid-configuration", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]any{
			"issuer": s.issuer, "token_endpoint": s.issuer + "/token", "jwks_uri": s.issuer + "/jwks",
			"grant_types_supported":                 []string{"client_credentials"},
			"token_endpoint_auth_methods_supported": []string{"client_secret_basic"},
		})
	})
	mux.HandleFunc("GET /_ctl/stats", func(w http.ResponseWriter, _ *http.Request) {
		s.mu.Lock()
		defer s.mu.Unlock()
		writeJSON(w, http.StatusOK, map[string]any{"tokens_issued": s.issued, "by_client": s.byClient,
			"refused": s.refused, "failed": s.failed, "fail_with": s.failWith})
	})
	mux.HandleFunc("PUT /_ctl/fail", func(w http.ResponseWriter, r *http.Request) {
		status, err := strconv.Atoi(r.URL.Query().Get("status"))
		if err != nil || status < 400 || status > 599 {
			http.Error(w, "status must be a 4xx or 5xx code", http.StatusBadRequest)
			return
		}
		s.mu.Lock()
		s.failWith = status
		s.mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("DELETE /_ctl/fail", func(w http.ResponseWriter, _ *http.Request) {
		s.mu.Lock()
		s.failWith = 0
		s.mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	})
	return mux
}

// token implements the client credentials grant (RFC 6749 §4.4) with client_secret_basic only: a client sending
// its secret in the body is refused, so the suite proves the connector uses Basic auth.
func (s *server) token(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	failWith := s.failWith
	if failWith != 0 {
		s.failed++
	}
	s.mu.Unlock()
	if failWith != 0 {
		writeJSON(w, failWith, map[string]string{"error": "temporarily_unavailable", "error_description": "injected failure"})
		return
	}
	refuse := func(status int, code, desc string) {
		s.mu.Lock()
		s.refused++
		s.mu.Unlock()
		if status == http.StatusUnauthorized {
			w.Header().Set("WWW-Authenticate", `Basic realm="oidc"`)
		}
		writeJSON(w, status, map[string]string{"error": code, "error_description": desc})
	}
	if err := r.ParseForm(); err != nil {
		refuse(http.StatusBadRequest, "invalid_request", "unreadable form")
		return
	}
	if r.PostForm.Get("grant_type") != "client_credentials" {
		refuse(http.StatusBadRequest, "unsupported_grant_type", "only client_credentials is supported")
		return
	}
	if r.PostForm.Get("client_secret") != "" {
		refuse(http.StatusUnauthorized, "invalid_client", "client_secret_post is not allowed; use HTTP Basic")
		return
	}
	id, secret, ok := r.BasicAuth()
	c, known := s.clients[id]
	if !ok || !known || secret != c.secret {
		refuse(http.StatusUnauthorized, "invalid_client", "unknown client or wrong secret")
		return
	}
	now := time.Now()
	claims := map[string]any{
		"iss": s.issuer, "sub": id, "aud": c.audience, "azp": id,
		"iat": now.Unix(), "nbf": now.Unix() - 1, "exp": now.Add(s.ttl).Unix(),
		"jti": strconv.FormatInt(now.UnixNano(), 36),
	}
	if scope := r.PostForm.Get("scope"); scope != "" {
		claims["scope"] = scope
	}
	tok, err := s.sign(claims)
	if err != nil {
		writeJSON(w, http.StatusInternalServerError, map[string]string{"error": "server_error"})
		return
	}
	s.mu.Lock()
	s.issued++
	s.byClient[id]++
	s.mu.Unlock()
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, map[string]any{"access_token": tok, "token_type": "Bearer",
		"expires_in": int(s.ttl / time.Second)})
}

// sign builds a compact JWS (RFC 7515) with RS256.
func (s *server) sign(claims map[string]any) (string, error) {
	header, err := json.Marshal(map[string]string{"alg": "RS256", "typ": "JWT", "kid": s.kid})
	if err != nil {
		return "", err
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", err
	}
	signing := base64.RawURLEncoding.EncodeToString(header) + "." + base64.RawURLEncoding.EncodeToString(payload)
	digest := sha256.Sum256([]byte(signing))
	sig, err := rsa.SignPKCS1v15(rand.Reader, s.key, crypto.SHA256, digest[:])
	if err != nil {
		return "", err
	}
	return signing + "." + base64.RawURLEncoding.EncodeToString(sig), nil
}

func (s *server) jwks(w http.ResponseWriter, _ *http.Request) {
	pub := s.key.PublicKey
	writeJSON(w, http.StatusOK, map[string]any{"keys": []map[string]string{{
		"kty": "RSA", "use": "sig", "alg": "RS256", "kid": s.kid,
		"n": base64.RawURLEncoding.EncodeToString(pub.N.Bytes()),
		"e": base64.RawURLEncoding.EncodeToString(big.NewInt(int64(pub.E)).Bytes()),
	}}})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
