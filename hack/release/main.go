// Command release numbers the project's releases.
//
//	go run ./hack/release next --channel alpha [--base 35.1.0]
//	go run ./hack/release major
//	go run ./hack/release check --channel alpha    (make release-check)
//
// next prints the next tag on a channel (alpha, beta, rc or final) given the
// existing git tags; major prints the major that go.mod's k8s.io/api pins;
// check refuses, with the reason, when the working tree is dirty, HEAD is
// not main, or no passing .ci/run is recorded for HEAD, and else prints the
// next tag.
package main

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"strings"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "release:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	if len(args) == 0 {
		return fmt.Errorf("usage: release next|major|check [flags]")
	}
	flags := flag.NewFlagSet(args[0], flag.ContinueOnError)
	channel := flags.String("channel", Alpha, "alpha, beta, rc or final")
	base := flags.String("base", "", "the MAJOR.MINOR.PATCH to release (the major must be go.mod's)")
	if err := flags.Parse(args[1:]); err != nil {
		return err
	}
	switch args[0] {
	case "major":
		major, err := major()
		if err != nil {
			return err
		}
		fmt.Println(major)
	case "next":
		major, err := major()
		if err != nil {
			return err
		}
		out, err := exec.Command("git", "tag").Output()
		if err != nil {
			return fmt.Errorf("cannot list the git tags: %w", err)
		}
		next, err := Next(major, *channel, *base, strings.Fields(string(out)))
		if err != nil {
			return err
		}
		fmt.Println(next)
	case "check":
		next, err := Check(".", *channel)
		if err != nil {
			return fmt.Errorf("not ready to release: %w", err)
		}
		fmt.Println(next)
	default:
		return fmt.Errorf("unknown command %q: use next, major or check", args[0])
	}
	return nil
}

func major() (int, error) {
	gomod, err := os.ReadFile("go.mod")
	if err != nil {
		return 0, err
	}
	return KubernetesMajor(gomod)
}
