package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// CIResultFile is where .ci/run records its result for the commit it ran
// on, as "<commit> pass" or "<commit> fail". Git ignores it.
const CIResultFile = ".cache/ci-result"

// ReleaseBranch is the only branch releases are cut from.
const ReleaseBranch = "main"

// Check returns the next release on channel for the repository in dir, or
// the reason it must not be cut now: uncommitted changes, a branch other
// than main, or no passing CI run recorded for HEAD.
func Check(dir, channel string) (string, error) {
	git := func(args ...string) (string, error) {
		var out, errOut bytes.Buffer
		cmd := exec.Command("git", args...) //nolint:gosec // Fixed git subcommands of this package.
		cmd.Dir, cmd.Stdout, cmd.Stderr = dir, &out, &errOut
		if err := cmd.Run(); err != nil {
			return "", fmt.Errorf("git %s: %w: %s", strings.Join(args, " "), err, errOut.String())
		}
		return strings.TrimSpace(out.String()), nil
	}
	status, err := git("status", "--porcelain")
	if err != nil {
		return "", err
	}
	if status != "" {
		return "", fmt.Errorf("the working tree has uncommitted changes:\n%s", status)
	}
	branch, err := git("rev-parse", "--abbrev-ref", "HEAD")
	if err != nil {
		return "", err
	}
	if branch != ReleaseBranch {
		return "", fmt.Errorf("HEAD is %s, not %s: releases are cut from %s", branch, ReleaseBranch, ReleaseBranch)
	}
	head, err := git("rev-parse", "HEAD")
	if err != nil {
		return "", err
	}
	if err := checkCIResult(filepath.Join(dir, CIResultFile), head); err != nil {
		return "", err
	}
	gomod, err := os.ReadFile(filepath.Join(dir, "go.mod")) //nolint:gosec // The repository's go.mod.
	if err != nil {
		return "", err
	}
	major, err := KubernetesMajor(gomod)
	if err != nil {
		return "", err
	}
	tags, err := git("tag")
	if err != nil {
		return "", err
	}
	return Next(major, channel, "", strings.Fields(tags))
}

func checkCIResult(file, head string) error {
	b, err := os.ReadFile(file) //nolint:gosec // The repository's own record.
	if errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("no CI result is recorded for HEAD %s: run bash .ci/run", head)
	}
	if err != nil {
		return err
	}
	commit, result, _ := strings.Cut(strings.TrimSpace(string(b)), " ")
	switch {
	case commit != head:
		return fmt.Errorf("the last CI result is for %s, not HEAD %s: run bash .ci/run", commit, head)
	case result != "pass":
		return fmt.Errorf("CI failed on HEAD %s (%s): fix it first", head, result)
	}
	return nil
}
