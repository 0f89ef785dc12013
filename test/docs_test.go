package e2e

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"unicode"
)

// trackedFiles lists the repository's files (git ls-files), or walks the tree when git is not available.
func trackedFiles(t *testing.T) []string {
	t.Helper()
	out, err := exec.Command("git", "-C", repoDir, "ls-files", "--cached", "--others", "--exclude-standard").Output()
	if err == nil {
		var files []string
		for f := range strings.SplitSeq(strings.TrimSpace(string(out)), "\n") {
			if _, err := os.Stat(filepath.Join(repoDir, f)); err == nil {
				files = append(files, f)
			}
		}
		return files
	}
	var files []string
	_ = filepath.WalkDir(repoDir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && !strings.Contains(p, "/.git/") {
			rel, _ := filepath.Rel(repoDir, p)
			files = append(files, filepath.ToSlash(rel))
		}
		return nil
	})
	return files
}

// headingSlug is GitHub's anchor for a Markdown heading: lower case, letters, digits, '-' and '_' kept, spaces
// become '-', everything else dropped.
func headingSlug(h string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(h) {
		switch {
		case unicode.IsLetter(r) || unicode.IsDigit(r) || r == '-' || r == '_':
			b.WriteRune(r)
		case r == ' ':
			b.WriteByte('-')
		}
	}
	return b.String()
}

// anchors returns the heading anchors of a Markdown file (duplicates numbered as GitHub does).
func anchors(t *testing.T, path string) map[string]bool {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string]bool{}
	seen := map[string]int{}
	fence := false
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		l := sc.Text()
		if strings.HasPrefix(l, "```") {
			fence = !fence
			continue
		}
		if fence || !strings.HasPrefix(l, "#") {
			continue
		}
		h := strings.TrimSpace(strings.TrimLeft(l, "#"))
		slug := headingSlug(strings.NewReplacer("`", "", "*", "").Replace(h))
		if n := seen[slug]; n > 0 {
			out[slug+"-"+itoa(n)] = true
		} else {
			out[slug] = true
		}
		seen[slug]++
	}
	return out
}

func itoa(n int) string { return strconv.Itoa(n) }

var (
	mdLinkRE  = regexp.MustCompile(`\]\(([^)\s]+)\)`)
	docRefRE  = regexp.MustCompile(`\bdocs/[a-z0-9-]+\.md(#[a-z0-9-]+)?`)
	inlineRE  = regexp.MustCompile("`[^`]*`")
	commentRE = regexp.MustCompile(`<!--.*?-->`)
)

// Every relative link of every Markdown file, and every docs/*.md reference in the code, points at a file (and a
// heading) of the repository; nothing cites the specification that lives outside it.
func TestDocumentReferences(t *testing.T) {
	files := trackedFiles(t)
	if len(files) < 20 {
		t.Fatalf("only %d files found", len(files))
	}
	anchorCache := map[string]map[string]bool{}
	check := func(from, target string) {
		t.Helper()
		path, frag, _ := strings.Cut(target, "#")
		full := filepath.Join(repoDir, filepath.Dir(from), path)
		if path == "" {
			full = filepath.Join(repoDir, from)
		}
		if _, err := os.Stat(full); err != nil {
			t.Errorf("%s: link %q: %s does not exist", from, target, path)
			return
		}
		if frag == "" || !strings.HasSuffix(full, ".md") {
			return
		}
		a, ok := anchorCache[full]
		if !ok {
			a = anchors(t, full)
			anchorCache[full] = a
		}
		if !a[frag] {
			t.Errorf("%s: link %q: no heading #%s in %s", from, target, frag, path)
		}
	}
	for _, f := range files {
		data, err := os.ReadFile(filepath.Join(repoDir, f))
		if err != nil || strings.HasPrefix(f, "test/testdata/") {
			continue
		}
		text := string(data)
		if strings.Contains(text, "PRODUCT.md") && f != "test/docs_test.go" {
			t.Errorf("%s cites PRODUCT.md, which is not in the repository: link the docs/ page instead", f)
		}
		switch {
		case strings.HasSuffix(f, ".md"):
			fence := false
			for l := range strings.SplitSeq(text, "\n") {
				if strings.HasPrefix(strings.TrimSpace(l), "```") {
					fence = !fence
					continue
				}
				if fence {
					continue
				}
				l = inlineRE.ReplaceAllString(commentRE.ReplaceAllString(l, ""), "")
				for _, m := range mdLinkRE.FindAllStringSubmatch(l, -1) {
					target := m[1]
					if strings.Contains(target, "://") || strings.HasPrefix(target, "mailto:") {
						continue
					}
					check(f, target)
				}
			}
		case strings.HasSuffix(f, ".go") || strings.HasSuffix(f, ".avsc") || strings.HasSuffix(f, ".yaml") ||
			strings.HasSuffix(f, ".yml") || strings.HasSuffix(f, ".sh") || f == "Makefile" || f == "Dockerfile":
			for _, m := range docRefRE.FindAllString(text, -1) {
				check(".", m) // relative to the repository root
			}
		}
	}
}
