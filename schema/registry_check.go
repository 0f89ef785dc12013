package schema

import (
	"context"
	"errors"
	"fmt"

	"github.com/twmb/franz-go/pkg/sr"
)

// CheckRegistry asks the registry for its subjects (GET /subjects) with the URL, credentials and TLS settings the
// decoder uses, and returns how many there are: a check that the registry answers and accepts the credentials
// (check-config --online). A refusal is an error naming the HTTP status and the registry's error code; the
// credentials are never in it.
func CheckRegistry(ctx context.Context, c RegistryConfig) (subjects int, err error) {
	src, err := newRegistryClient(c)
	if err != nil {
		return 0, err
	}
	subs, err := src.cl.Subjects(ctx)
	if err != nil {
		var re *sr.ResponseError
		if errors.As(err, &re) {
			return 0, &RegistryCheckError{StatusCode: re.StatusCode, Code: re.ErrorCode}
		}
		return 0, fmt.Errorf("%w: %w", ErrRegistryUnavailable, err)
	}
	return len(subs), nil
}

// RegistryCheckError is the registry's refusal of CheckRegistry's request. It wraps ErrRegistryUnavailable.
type RegistryCheckError struct {
	StatusCode int // HTTP status: 401 or 403 for refused credentials
	Code       int // Confluent error_code, 0 when the body had none
}

func (e *RegistryCheckError) Error() string {
	return fmt.Sprintf("%v: GET /subjects answered HTTP %d (error_code %d)", ErrRegistryUnavailable, e.StatusCode, e.Code)
}

func (e *RegistryCheckError) Unwrap() error { return ErrRegistryUnavailable }
