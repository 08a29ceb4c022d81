package fn

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation"
)

// nameHashLength is the number of hex digits of the hash that makes a
// derived name unique: 40 bits.
const nameHashLength = 10

// objectName returns the name of an instance's Deployment, Service and
// Ingress, and the value of its app and deployment labels. That is the
// DataVisualisation's own name whenever it is a valid Service name (a
// DNS-1035 label: at most 63 characters, starting with a letter, no dots),
// as it is for the names the Data Manager gives. Any other name gets a
// valid, deterministic name derived from it: its readable start, made valid,
// and a hash of the whole name so that two names with the same start do not
// collide.
func objectName(name string) string {
	if len(validation.IsDNS1035Label(name)) == 0 {
		return name
	}
	sum := sha256.Sum256([]byte(name))
	suffix := "-" + hex.EncodeToString(sum[:])[:nameHashLength]

	var b strings.Builder
	for _, c := range strings.ToLower(name) {
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9':
			b.WriteRune(c)
		default:
			b.WriteByte('-')
		}
	}
	prefix := strings.TrimLeft(b.String(), "-0123456789")
	if prefix == "" {
		prefix = "viz"
	}
	if maxPrefix := validation.DNS1035LabelMaxLength - len(suffix); len(prefix) > maxPrefix {
		prefix = prefix[:maxPrefix]
	}
	return strings.TrimRight(prefix, "-") + suffix
}
