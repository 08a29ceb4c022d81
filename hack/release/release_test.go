package main

import (
	"strings"
	"testing"
)

func TestNext(t *testing.T) {
	cases := map[string]struct {
		reason  string
		channel string
		base    string
		tags    []string
		want    string
		wantErr string
	}{
		"FirstAlpha":           {reason: "With no tags, the first release is MAJOR.0.0.", channel: Alpha, want: "35.0.0-alpha.1"},
		"FirstBeta":            {reason: "Each channel counts from 1.", channel: Beta, tags: []string{"35.0.0-alpha.3"}, want: "35.0.0-beta.1"},
		"FirstRC":              {reason: "The rc channel.", channel: RC, tags: []string{"35.0.0-beta.1"}, want: "35.0.0-rc.1"},
		"NextAlpha":            {reason: "The N+1-th pre-release follows the N-th.", channel: Alpha, tags: []string{"35.0.0-alpha.1", "35.0.0-alpha.2"}, want: "35.0.0-alpha.3"},
		"GapInN":               {reason: "N is one more than the highest, gaps or not.", channel: Alpha, tags: []string{"35.0.0-alpha.1", "35.0.0-alpha.7"}, want: "35.0.0-alpha.8"},
		"OtherChannelsIgnored": {reason: "Tags of other channels do not count.", channel: Beta, tags: []string{"35.0.0-alpha.4", "35.0.0-rc.2"}, want: "35.0.0-beta.1"},
		"OtherBasesIgnored":    {reason: "Tags of other bases do not count.", channel: Alpha, base: "35.1.0", tags: []string{"35.0.0-alpha.4", "35.2.0-alpha.9"}, want: "35.1.0-alpha.1"},
		"OtherMajorsIgnored":   {reason: "Tags of other majors do not count.", channel: Alpha, tags: []string{"34.9.9", "36.0.0-alpha.2", "not-a-release"}, want: "35.0.0-alpha.1"},
		"Final":                {reason: "final gives the bare base.", channel: Final, tags: []string{"35.0.0-rc.2"}, want: "35.0.0"},
		"AfterFinal":           {reason: "After a final release, the next base is the next patch.", channel: Alpha, tags: []string{"35.0.0-rc.2", "35.0.0"}, want: "35.0.1-alpha.1"},
		"VPrefixedTags":        {reason: "Tags with a v prefix count too.", channel: Alpha, tags: []string{"v35.0.0-alpha.2"}, want: "35.0.0-alpha.3"},
		"ExplicitBase":         {reason: "--base may change the minor and patch.", channel: Final, base: "35.2.3", tags: []string{"35.0.0"}, want: "35.2.3"},
		"FinalExists":          {reason: "A final release is never cut twice.", channel: Final, tags: []string{"35.0.0"}, base: "35.0.0", wantErr: "35.0.0 is released already"},
		"MajorMismatch":        {reason: "--base may not change the major.", channel: Alpha, base: "36.0.0", wantErr: "base 36.0.0 has major 36, but go.mod's k8s.io/api pins major 35"},
		"MalformedBase":        {reason: "A base must be MAJOR.MINOR.PATCH.", channel: Alpha, base: "35.1", wantErr: `malformed base "35.1"`},
		"PrereleaseAsBase":     {reason: "A base has no pre-release suffix.", channel: Alpha, base: "35.1.0-rc.1", wantErr: `malformed base "35.1.0-rc.1"`},
		"UnknownChannel":       {reason: "Only alpha, beta, rc and final.", channel: "nightly", wantErr: `unknown channel "nightly"`},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got, err := Next(35, tc.channel, tc.base, tc.tags)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("%s\nNext(...): want error %q, got %q, %v", tc.reason, tc.wantErr, got, err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Errorf("%s\nNext(...): want %q, got %q, %v", tc.reason, tc.want, got, err)
			}
		})
	}
}

func TestKubernetesMajor(t *testing.T) {
	cases := map[string]struct {
		gomod   string
		want    int
		wantErr string
	}{
		"RequireBlock":    {gomod: "module m\n\nrequire (\n\tk8s.io/api v0.36.4\n\tk8s.io/apimachinery v0.36.4\n)\n", want: 36},
		"RequireLine":     {gomod: "module m\nrequire k8s.io/api v0.35.3 // indirect\n", want: 35},
		"NoKubernetesAPI": {gomod: "module m\nrequire k8s.io/apimachinery v0.35.3\n", wantErr: "does not require k8s.io/api"},
		"NotAV0Release":   {gomod: "module m\nrequire k8s.io/api v1.2.3\n", wantErr: "not a v0.MINOR.PATCH release"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got, err := KubernetesMajor([]byte(tc.gomod))
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("KubernetesMajor(...): want error %q, got %d, %v", tc.wantErr, got, err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Errorf("KubernetesMajor(...): want %d, got %d, %v", tc.want, got, err)
			}
		})
	}
}
