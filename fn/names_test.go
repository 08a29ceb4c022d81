package fn

import (
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/util/validation"
)

func contains(s, substr string) bool {
	return strings.Contains(s, substr)
}

func TestObjectName(t *testing.T) {
	cases := map[string]struct {
		reason string
		name   string
		want   string
	}{
		"DataManagerNameIsKept": {
			reason: "The names the Data Manager gives are valid Service names, so they are used as they are.",
			name:   "instance-3af1f24e-5dd5-4b8c-9788-f6cfb62bfdb3",
			want:   "instance-3af1f24e-5dd5-4b8c-9788-f6cfb62bfdb3",
		},
		"SixtyThreeCharactersAreKept": {
			reason: "A 63-character DNS-1035 label is a valid Service name.",
			name:   "a" + strings.Repeat("b", 62),
			want:   "a" + strings.Repeat("b", 62),
		},
		"SixtyFourCharactersAreShortened": {
			reason: "A 64-character name is too long for a Service, so it is cut and gets the start of its SHA-256 (printf %s NAME | sha256sum).",
			name:   "a" + strings.Repeat("b", 63),
			want:   "a" + strings.Repeat("b", 51) + "-" + "c20bec2e44",
		},
		"DotsBecomeDashes": {
			reason: "A Service name cannot hold dots.",
			name:   "viz.example",
			want:   "viz-example-" + "2d792bc532",
		},
		"LeadingDigitIsDropped": {
			reason: "A Service name must start with a letter.",
			name:   "1viz",
			want:   "viz-" + "4bbafd2025",
		},
		"AllDigits": {
			reason: "A name with no letter at all still gets a valid name.",
			name:   "123",
			want:   "viz-" + "a665a45920",
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if got := objectName(tc.name); got != tc.want {
				t.Errorf("%s\nObjectName(%q): want %q, got %q", tc.reason, tc.name, tc.want, got)
			}
		})
	}
}

// TestObjectNameEveryLength checks names of every legal length and a few
// shapes: each gives a valid Service, Deployment and Ingress name and label
// value, the same every time, and distinct names give distinct results.
func TestObjectNameEveryLength(t *testing.T) {
	seen := map[string]string{}
	for n := 1; n <= validation.DNS1123SubdomainMaxLength; n++ {
		for _, shape := range []string{"a", "0", "a.b", "ab-"} {
			name := strings.Repeat(shape, n)[:n]
			name = strings.TrimRight(name, "-.")
			if name == "" || len(validation.IsDNS1123Subdomain(name)) > 0 {
				continue
			}
			got := objectName(name)
			if msgs := validation.IsDNS1035Label(got); len(msgs) > 0 {
				t.Fatalf("objectName(%q) = %q: not a valid Service name: %v", name, got, msgs)
			}
			if msgs := validation.IsValidLabelValue(got); len(msgs) > 0 {
				t.Fatalf("objectName(%q) = %q: not a valid label value: %v", name, got, msgs)
			}
			if again := objectName(name); again != got {
				t.Fatalf("objectName(%q) is not deterministic: %q then %q", name, got, again)
			}
			if other, ok := seen[got]; ok && other != name {
				t.Fatalf("objectName(%q) and objectName(%q) collide: %q", name, other, got)
			}
			seen[got] = name
		}
	}
}
