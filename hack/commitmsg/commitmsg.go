// Package commitmsg checks commit messages against the Conventional Commits
// format the project uses (as Commitizen's cz_conventional_commits does).
package main

import (
	"fmt"
	"regexp"
	"strings"
)

// Types lists the commit types the project uses.
var Types = []string{"feat", "fix", "docs", "style", "refactor", "perf", "test", "build", "ci", "chore", "revert"}

var header = regexp.MustCompile(`^(` + strings.Join(Types, "|") + `)(\([a-z0-9][a-z0-9._/-]*\))?!?: \S.*$`)

// Check returns why message, as git writes it for the commit-msg hook, is not
// a Conventional Commit, or nil. Comment lines are ignored, and merge commits
// that git writes are accepted.
func Check(message string) error {
	var lines []string
	for _, l := range strings.Split(message, "\n") {
		if !strings.HasPrefix(l, "#") {
			lines = append(lines, l)
		}
	}
	subject := ""
	for _, l := range lines {
		if strings.TrimSpace(l) != "" {
			subject = l
			break
		}
	}
	switch {
	case subject == "":
		return fmt.Errorf("the commit message is empty")
	case strings.HasPrefix(subject, "Merge "):
		return nil
	case !header.MatchString(subject):
		return fmt.Errorf("%q is not a Conventional Commit subject: want TYPE[(scope)][!]: description, TYPE one of %s", subject, strings.Join(Types, ", "))
	}
	return nil
}
