//go:build tools

// Package tools pins Crossplane core, which the end-to-end suite runs out of
// cluster.
package tools

import (
	_ "github.com/crossplane/crossplane/v2/cmd/crossplane"
)
