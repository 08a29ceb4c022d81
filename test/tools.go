//go:build tools

// Package tools pins the crossplane CLI (crank) that the render, validate and
// xpkg targets use. crossplane/v2 v2.2.1 is the last release that has cmd/crank.
package tools

import (
	_ "github.com/crossplane/crossplane/v2/cmd/crank"
)
