// Command sizing merges the figures of ceiling benchmark runs (make
// e2e-ceiling writes one per run, as JSON) into one, and draws its plot:
// for a run per mode, or a run that stopped part way and one that went on.
//
//	sizing -o docs/sizing.json _output/e2e-ceiling.json _output/e2e-ceiling-provider.json
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/informaticsmatters/function-squonk2-viz/test/internal/sizing"
)

func main() {
	out := flag.String("o", "", "the file to write the merged figures to; their plot is written beside it (.svg)")
	flag.Parse()
	if *out == "" || flag.NArg() == 0 {
		fmt.Fprintln(os.Stderr, "usage: sizing -o merged.json run.json...")
		os.Exit(2)
	}
	var runs []sizing.Run
	for _, file := range flag.Args() {
		r, err := sizing.Read(file)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		runs = append(runs, r)
	}
	if err := sizing.Merge(runs...).Write(*out, sizing.Components); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
