// Command commitmsg is the commit-msg hook: it checks that the commit
// message in the file git passes is a Conventional Commit.
package main

import (
	"fmt"
	"os"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: commitmsg COMMIT_MSG_FILE")
		os.Exit(2)
	}
	b, err := os.ReadFile(os.Args[1]) //nolint:gosec // The file git names for the hook.
	if err == nil {
		err = Check(string(b))
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "commit-msg:", err)
		os.Exit(1)
	}
}
