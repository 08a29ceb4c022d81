// Package auth stands in for github.com/nebius/gosdk/auth.
package auth

// BearerToken is an IAM token.
type BearerToken struct {
	Token string
}

// PrivateKeyParser reads service account credentials.
type PrivateKeyParser struct{}

// NewPrivateKeyParser returns a PrivateKeyParser.
func NewPrivateKeyParser([]byte, string, string) *PrivateKeyParser { return &PrivateKeyParser{} }
