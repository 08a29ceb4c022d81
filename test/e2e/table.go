//go:build e2e

package e2e

import (
	"strings"
)

// A sideBySide table puts what was measured in each mode in one row, the
// modes' columns side by side.
type sideBySide struct {
	keys  []string                       // the rows, in the order first seen
	cells map[string]map[string][]string // row -> mode -> its cells
}

// set sets a row's cells for a mode.
func (s *sideBySide) set(row, mode string, cells ...string) {
	if s.cells == nil {
		s.cells = map[string]map[string][]string{}
	}
	if s.cells[row] == nil {
		s.cells[row] = map[string][]string{}
		s.keys = append(s.keys, row)
	}
	s.cells[row][mode] = cells
}

// markdown renders the table: the row column(s), then each mode's columns;
// a mode that did not measure a row has a dash.
func (s *sideBySide) markdown(rowHeader string, columns ...string) string {
	var b strings.Builder
	b.WriteString("\n| " + rowHeader)
	sep := "\n|---" + strings.Repeat("|---", strings.Count(rowHeader, "|"))
	for _, m := range modes {
		for _, col := range columns {
			b.WriteString(" | " + m.name + ": " + col)
			sep += "|---"
		}
	}
	b.WriteString(" |" + sep + "|\n")
	for _, row := range s.keys {
		b.WriteString("| " + row)
		for _, m := range modes {
			cells, ok := s.cells[row][m.name]
			for i := range columns {
				cell := "—"
				if ok && i < len(cells) {
					cell = cells[i]
				}
				b.WriteString(" | " + cell)
			}
		}
		b.WriteString(" |\n")
	}
	return b.String()
}
