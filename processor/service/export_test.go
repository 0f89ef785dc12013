package service

import "github.com/capi-connector/capi-connector/processor/stream"

// SetCredentialsHealth replaces what the runtime asks about the SASL credentials (tests: a token endpoint that
// fails and recovers without an identity provider). Call it between New and Run.
func SetCredentialsHealth(s *Service, c stream.CredentialsHealth) { s.opts.Credentials = c }
