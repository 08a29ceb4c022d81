// Package gosdk stands in for github.com/nebius/gosdk, which the Go module
// proxy does not serve. provider-kubernetes uses it only to authenticate to
// Nebius clusters, which the end-to-end suite never does: every call fails.
package gosdk

import (
	"context"
	"errors"

	"github.com/nebius/gosdk/auth"
)

var errStub = errors.New("nebius authentication is not available in this build of provider-kubernetes")

// An Option configures an SDK.
type Option func()

// Credentials authenticate an SDK.
type Credentials struct{}

// SDK is a Nebius SDK client.
type SDK struct{}

// New fails: this build cannot reach Nebius.
func New(context.Context, ...Option) (*SDK, error) { return nil, errStub }

// WithCredentials returns an Option.
func WithCredentials(Credentials) Option { return func() {} }

// ServiceAccountReader returns Credentials.
func ServiceAccountReader(any) Credentials { return Credentials{} }

// BearerToken fails: this build cannot reach Nebius.
func (*SDK) BearerToken(context.Context) (auth.BearerToken, error) {
	return auth.BearerToken{}, errStub
}
