//go:build tools

// Package tools pins the Crossplane core release before the one the kit runs
// (test/tools/crossplane-core): the upgrade suite starts with it and
// upgrades to the kit's.
package tools

import (
	_ "github.com/crossplane/crossplane/v2/cmd/crossplane"
)
