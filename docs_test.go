package main

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// markdownLink matches the target of a Markdown link: [text](target).
var markdownLink = regexp.MustCompile(`\]\(([^)\s]+)\)`)

// TestDocsLinksResolve checks that every relative link in the project's
// Markdown files names a file or folder of the repository, so that a clone
// has everything its docs point to.
func TestDocsLinksResolve(t *testing.T) {
	for _, doc := range markdownFiles(t) {
		b, err := os.ReadFile(doc)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range markdownLink.FindAllStringSubmatch(string(b), -1) {
			target := m[1]
			if strings.Contains(target, "://") || strings.HasPrefix(target, "#") || strings.HasPrefix(target, "mailto:") {
				continue
			}
			target, _, _ = strings.Cut(target, "#")
			path := filepath.Join(filepath.Dir(doc), target)
			if _, err := os.Stat(path); err != nil {
				t.Errorf("%s links to %s, which is not in the repository", doc, m[1])
			}
			if rel, err := filepath.Rel(".", path); err != nil || strings.HasPrefix(rel, "..") {
				t.Errorf("%s links to %s, outside the repository", doc, m[1])
			}
		}
	}
}

// TestReadmeIsForUsers keeps the README short enough to read at once, and
// checks it shows the YAML a user writes.
func TestReadmeIsForUsers(t *testing.T) {
	b, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	if len(b) > 13*1024 {
		t.Errorf("README.md is %d bytes; keep it under 13 KiB and move maintainer material beside what it describes", len(b))
	}
	for _, want := range []string{"kind: DataVisualisation", "functionRef:", "make render", "make test"} {
		if !strings.Contains(string(b), want) {
			t.Errorf("README.md does not show %q", want)
		}
	}
}

// TestReadmeQuotesTheModeTable checks that the rows of the README's table of
// the two modes are quoted, as they are, from the end-to-end suite's
// measurements in test/e2e/README.md.
func TestReadmeQuotesTheModeTable(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	timings, err := os.ReadFile(filepath.Join("test", "e2e", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(readme), "\n## Choosing a mode\n")
	if !ok {
		t.Fatal(`README.md has no section "Choosing a mode"`)
	}
	section, _, _ = strings.Cut(section, "\n## ")
	var rows int
	for _, line := range strings.Split(section, "\n") {
		if !strings.HasPrefix(line, "| ") || strings.HasPrefix(line, "| live step") {
			continue
		}
		rows++
		if !strings.Contains(string(timings), line+"\n") {
			t.Errorf("README.md's mode table has a row that test/e2e/README.md's measurements do not:\n%s", line)
		}
	}
	if rows < 5 {
		t.Errorf("README.md's mode table quotes %d measurements; want at least 5", rows)
	}
}

func markdownFiles(t *testing.T) []string {
	t.Helper()
	var files []string
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (strings.HasPrefix(d.Name(), ".") && path != "." || d.Name() == "bin" || d.Name() == "_output") {
			return filepath.SkipDir
		}
		if !d.IsDir() && strings.HasSuffix(path, ".md") {
			files = append(files, path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("found no Markdown file")
	}
	return files
}
