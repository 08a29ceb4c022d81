package main

import (
	"strings"
	"testing"
)

func TestCheck(t *testing.T) {
	cases := map[string]struct {
		message string
		wantErr string
	}{
		"Feature":           {message: "feat: compose the Ingress\n"},
		"ScopeAndBreaking":  {message: "fix(fn)!: name the field in every error\n\nBody.\n"},
		"CommentsIgnored":   {message: "# Please enter the commit message\nci: run the soak\n# comment\n"},
		"Merge":             {message: "Merge branch 'main' into feature\n"},
		"NoType":            {message: "compose the Ingress\n", wantErr: "is not a Conventional Commit subject"},
		"UnknownType":       {message: "feature: compose\n", wantErr: "is not a Conventional Commit subject"},
		"NoSpaceAfterColon": {message: "feat:compose\n", wantErr: "is not a Conventional Commit subject"},
		"NoDescription":     {message: "feat: \n", wantErr: "is not a Conventional Commit subject"},
		"UpperCaseScope":    {message: "feat(FN): x\n", wantErr: "is not a Conventional Commit subject"},
		"Empty":             {message: "# only a comment\n\n", wantErr: "empty"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			err := Check(tc.message)
			if tc.wantErr == "" && err != nil || tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)) {
				t.Errorf("Check(%q): want error %q, got %v", tc.message, tc.wantErr, err)
			}
		})
	}
}
