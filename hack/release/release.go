// Package release numbers the project's releases. The major version is the
// Kubernetes minor version the project is built against (k8s.io/api v0.35.x
// gives 35), as for the operator it replaces. Pre-releases of a base version
// count up per channel: 35.0.1-alpha.1, 35.0.1-alpha.2, 35.0.1-beta.1, ...
package main

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// The channels a release is cut on. Final has no pre-release suffix.
const (
	Alpha = "alpha"
	Beta  = "beta"
	RC    = "rc"
	Final = "final"
)

// channelRank orders pre-releases of the same base.
var channelRank = map[string]int{Alpha: 1, Beta: 2, RC: 3, "": 4}

// A Version is a release number: a base, and for a pre-release its channel
// and count.
type Version struct {
	Major, Minor, Patch int
	Channel             string // "" for a final release.
	N                   int
}

var versionPattern = regexp.MustCompile(`^v?(\d+)\.(\d+)\.(\d+)(?:-(alpha|beta|rc)\.(\d+))?$`)

// Parse reads a tag such as 35.0.1, 35.0.1-rc.2 or v35.0.1. Tags of other
// shapes are not releases.
func Parse(tag string) (Version, bool) {
	m := versionPattern.FindStringSubmatch(tag)
	if m == nil {
		return Version{}, false
	}
	n := func(s string) int {
		i, _ := strconv.Atoi(s) // The pattern allows only digits.
		return i
	}
	return Version{Major: n(m[1]), Minor: n(m[2]), Patch: n(m[3]), Channel: m[4], N: n(m[5])}, true
}

// Base returns the version without its pre-release suffix.
func (v Version) Base() Version {
	return Version{Major: v.Major, Minor: v.Minor, Patch: v.Patch}
}

func (v Version) String() string {
	s := fmt.Sprintf("%d.%d.%d", v.Major, v.Minor, v.Patch)
	if v.Channel != "" {
		s += fmt.Sprintf("-%s.%d", v.Channel, v.N)
	}
	return s
}

// less orders versions by semantic-version precedence.
func less(a, b Version) bool {
	if a.Base() != b.Base() {
		if a.Major != b.Major {
			return a.Major < b.Major
		}
		if a.Minor != b.Minor {
			return a.Minor < b.Minor
		}
		return a.Patch < b.Patch
	}
	if a.Channel != b.Channel {
		return channelRank[a.Channel] < channelRank[b.Channel]
	}
	return a.N < b.N
}

var kubernetesAPI = regexp.MustCompile(`(?m)^\s*(?:require\s+)?k8s\.io/api\s+(\S+)`)

var kubernetesAPIVersion = regexp.MustCompile(`^v0\.(\d+)\.\d+$`)

// KubernetesMajor returns the release major that a go.mod pins: the minor
// version of its k8s.io/api requirement.
func KubernetesMajor(gomod []byte) (int, error) {
	m := kubernetesAPI.FindSubmatch(gomod)
	if m == nil {
		return 0, fmt.Errorf("go.mod does not require k8s.io/api, so the release major is unknown")
	}
	v := kubernetesAPIVersion.FindStringSubmatch(string(m[1]))
	if v == nil {
		return 0, fmt.Errorf("go.mod requires k8s.io/api %s, not a v0.MINOR.PATCH release, so the release major is unknown", m[1])
	}
	return strconv.Atoi(v[1])
}

// Next returns the next release on channel (alpha, beta, rc or final) of
// the given major, given the existing tags. The base is base when it is not
// empty (its major must be major); otherwise it is the base of the newest
// pre-release of major that has no final release yet, or the patch after
// its newest final release, or major.0.0.
func Next(major int, channel, base string, tags []string) (string, error) {
	switch channel {
	case Alpha, Beta, RC, Final:
	default:
		return "", fmt.Errorf("unknown channel %q: use alpha, beta, rc or final", channel)
	}
	var existing []Version
	for _, t := range tags {
		if v, ok := Parse(t); ok && v.Major == major {
			existing = append(existing, v)
		}
	}
	b, err := nextBase(major, base, existing)
	if err != nil {
		return "", err
	}
	if channel == Final {
		for _, v := range existing {
			if v == b {
				return "", fmt.Errorf("%s is released already", b)
			}
		}
		return b.String(), nil
	}
	next := Version{Major: b.Major, Minor: b.Minor, Patch: b.Patch, Channel: channel, N: 1}
	for _, v := range existing {
		if v.Base() == b && v.Channel == channel && v.N >= next.N {
			next.N = v.N + 1
		}
	}
	return next.String(), nil
}

func nextBase(major int, base string, existing []Version) (Version, error) {
	if base != "" {
		b, ok := Parse(base)
		if !ok || b.Channel != "" || strings.HasPrefix(base, "v") {
			return Version{}, fmt.Errorf("malformed base %q: want MAJOR.MINOR.PATCH, such as %d.1.0", base, major)
		}
		if b.Major != major {
			return Version{}, fmt.Errorf("base %s has major %d, but go.mod's k8s.io/api pins major %d", base, b.Major, major)
		}
		return b, nil
	}
	if len(existing) == 0 {
		return Version{Major: major}, nil
	}
	newest := existing[0]
	for _, v := range existing[1:] {
		if less(newest, v) {
			newest = v
		}
	}
	if newest.Channel != "" {
		return newest.Base(), nil
	}
	return Version{Major: newest.Major, Minor: newest.Minor, Patch: newest.Patch + 1}, nil
}
