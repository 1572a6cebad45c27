package tests

import (
	"fmt"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"unicode"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wso2-k8s/apim-gke/tests/harness"
)

// README.md is the front page and docs/*.md hold the rest. These tests keep the front page
// short and every relative link, anchor and `make <target>` in README.md and docs/*.md
// pointing at something that exists, so that moving a section cannot silently break a link.

// readmeMaxLines is the most README.md may have: a front page read in five minutes.
const readmeMaxLines = 300

var (
	// An ATX heading: "## Title", optionally closed by #s.
	docHeading = regexp.MustCompile(`^(#{1,6})[ \t]+(.*?)(?:[ \t]+#+)?[ \t]*$`)
	// An inline link or image: [text](target) or [text](target "title"). The text may hold
	// one level of brackets.
	docLink = regexp.MustCompile(`!?\[(?:[^\[\]]|\[[^\[\]]*\])*\]\(\s*<?([^()\s<>]+)>?(?:\s+"[^"]*")?\s*\)`)
	// A code span: `code` or ``code``.
	docCodeSpan = regexp.MustCompile("(`+)(.+?)`+")
	// `make <target>` where make starts a command: at the start of the code, after a shell
	// separator, sudo or variable assignments ("apt-get install make git" names no target).
	docMakeCommand = regexp.MustCompile(`(?:^|[;&|(]\s*|\bsudo\s+)(?:[A-Za-z_][A-Za-z0-9_]*=\S*\s+)*make\s+(?:-[A-Za-z]+\s+)*([A-Za-z0-9][A-Za-z0-9_.-]*)`)
	// A rule line of a Makefile: "target other: prerequisites" (not "VAR := value").
	makefileRule = regexp.MustCompile(`^([A-Za-z0-9_.][A-Za-z0-9_. -]*?)\s*::?(?:[^=]|$)`)
)

// docFiles is the tree the checks read: the repository on disk, or files in memory (tests of
// the checks themselves). Paths are relative to the repository root, with slashes.
type docFiles struct {
	root   string            // on disk when mem is nil
	mem    map[string]string // path -> contents
	target map[string]bool   // the Makefile's targets
}

func (d docFiles) read(rel string) (string, bool) {
	if d.mem != nil {
		s, ok := d.mem[rel]
		return s, ok
	}
	b, err := os.ReadFile(filepath.Join(d.root, filepath.FromSlash(rel)))
	return string(b), err == nil
}

// exists is true for a file or a directory.
func (d docFiles) exists(rel string) bool {
	if d.mem != nil {
		if _, ok := d.mem[rel]; ok {
			return true
		}
		for p := range d.mem {
			if strings.HasPrefix(p, rel+"/") {
				return true
			}
		}
		return false
	}
	_, err := os.Stat(filepath.Join(d.root, filepath.FromSlash(rel)))
	return err == nil
}

// docLine is a line of a Markdown file outside fenced code blocks, or (code) inside one.
type docLine struct {
	n    int
	text string
	code bool
}

func docLines(md string) []docLine {
	var out []docLine
	fence := ""
	for i, l := range strings.Split(md, "\n") {
		t := strings.TrimLeft(l, " \t")
		if fence == "" && (strings.HasPrefix(t, "```") || strings.HasPrefix(t, "~~~")) {
			fence = t[:3]
			continue
		}
		if fence != "" && strings.HasPrefix(t, fence) {
			fence = ""
			continue
		}
		out = append(out, docLine{n: i + 1, text: l, code: fence != ""})
	}
	return out
}

// docAnchor is GitHub's anchor for a heading's text: lower case, every character but letters,
// digits, '_', '-' and spaces dropped (backticks, dots, colons, apostrophes, ...), spaces to '-'.
func docAnchor(heading string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(strings.TrimSpace(heading)) {
		switch {
		case unicode.IsLetter(r), unicode.IsDigit(r), unicode.IsMark(r), r == '_', r == '-':
			b.WriteRune(r)
		case r == ' ':
			b.WriteRune('-')
		}
	}
	return b.String()
}

// docHeadings are a file's headings in order: level, text and anchor (GitHub's, with -1, -2,
// ... for the second and later headings of the same anchor).
type docHeadingInfo struct {
	level  int
	text   string
	anchor string
}

func docHeadings(md string) []docHeadingInfo {
	var out []docHeadingInfo
	seen := map[string]int{}
	for _, l := range docLines(md) {
		if l.code {
			continue
		}
		m := docHeading.FindStringSubmatch(l.text)
		if m == nil {
			continue
		}
		a := docAnchor(m[2])
		if n, dup := seen[a]; dup {
			seen[a] = n + 1
			for {
				cand := fmt.Sprintf("%s-%d", a, seen[a])
				if _, taken := seen[cand]; !taken {
					a = cand
					break
				}
				seen[a]++
			}
		}
		seen[a] = 0
		out = append(out, docHeadingInfo{level: len(m[1]), text: m[2], anchor: a})
	}
	return out
}

func docAnchors(md string) map[string]bool {
	out := map[string]bool{}
	for _, h := range docHeadings(md) {
		out[h.anchor] = true
	}
	return out
}

// docLinkTargets are the targets of the inline links outside code: in fenced blocks and code
// spans a "[x](y)" is text, not a link.
func docLinkTargets(md string) []string {
	var out []string
	for _, l := range docLines(md) {
		if l.code {
			continue
		}
		text := docCodeSpan.ReplaceAllString(l.text, "code")
		for _, m := range docLink.FindAllStringSubmatch(text, -1) {
			out = append(out, m[1])
		}
	}
	return out
}

// docMakeTargets are the targets of every `make <target>` in code: code spans and fenced blocks.
func docMakeTargets(md string) []string {
	var out []string
	for _, l := range docLines(md) {
		codes := []string{l.text}
		if !l.code {
			codes = nil
			for _, m := range docCodeSpan.FindAllStringSubmatch(l.text, -1) {
				codes = append(codes, strings.TrimSpace(m[2]))
			}
		}
		for _, c := range codes {
			for _, m := range docMakeCommand.FindAllStringSubmatch(strings.TrimSpace(c), -1) {
				out = append(out, m[1])
			}
		}
	}
	return out
}

// makefileTargets are the explicit targets of a Makefile's rules.
func makefileTargets(makefile string) map[string]bool {
	out := map[string]bool{}
	for _, l := range strings.Split(makefile, "\n") {
		if strings.HasPrefix(l, "\t") || strings.HasPrefix(l, "#") {
			continue
		}
		m := makefileRule.FindStringSubmatch(l)
		if m == nil {
			continue
		}
		for _, t := range strings.Fields(m[1]) {
			if !strings.HasPrefix(t, ".") {
				out[t] = true
			}
		}
	}
	return out
}

// checkDoc returns the problems of one Markdown file (rel): relative links to paths that do not
// exist, anchors no heading of their file has, `make` targets the Makefile does not have. Each
// problem names the file and the bad link or target.
func checkDoc(d docFiles, rel string) []string {
	md, ok := d.read(rel)
	if !ok {
		return []string{rel + ": cannot read"}
	}
	var problems []string
	dir := path.Dir(rel)
	for _, target := range docLinkTargets(md) {
		if regexp.MustCompile(`^[A-Za-z][A-Za-z0-9+.-]*:`).MatchString(target) {
			continue // https:, mailto:, ...: not a file of the repository
		}
		file, frag, hasFrag := strings.Cut(target, "#")
		dest := rel
		if file != "" {
			dest = path.Join(dir, file)
			if dest == ".." || strings.HasPrefix(dest, "../") || strings.HasPrefix(file, "/") {
				problems = append(problems, fmt.Sprintf("%s: link %q leaves the repository", rel, target))
				continue
			}
			if !d.exists(dest) {
				problems = append(problems, fmt.Sprintf("%s: link %q: %s does not exist", rel, target, dest))
				continue
			}
		}
		if !hasFrag {
			continue
		}
		if !strings.HasSuffix(dest, ".md") {
			problems = append(problems, fmt.Sprintf("%s: link %q: an anchor into %s, which is not Markdown", rel, target, dest))
			continue
		}
		destMD, _ := d.read(dest)
		if !docAnchors(destMD)[frag] {
			problems = append(problems, fmt.Sprintf("%s: link %q: %s has no heading with anchor #%s", rel, target, dest, frag))
		}
	}
	for _, t := range docMakeTargets(md) {
		if !d.target[t] {
			problems = append(problems, fmt.Sprintf("%s: `make %s`: the Makefile has no target %s", rel, t, t))
		}
	}
	return problems
}

// checkFrontPage returns the problems of README.md as a front page: more than readmeMaxLines
// lines, no "## Contents", or a "##" heading its contents do not link to.
func checkFrontPage(readme string) []string {
	var problems []string
	if n := strings.Count(strings.TrimRight(readme, "\n"), "\n") + 1; n > readmeMaxLines {
		problems = append(problems, fmt.Sprintf("README.md has %d lines, more than %d", n, readmeMaxLines))
	}
	_, contents, ok := strings.Cut(readme, "\n## Contents\n")
	if !ok {
		return append(problems, "README.md has no \"## Contents\" section")
	}
	if end := strings.Index(contents, "\n## "); end >= 0 {
		contents = contents[:end]
	}
	listed := map[string]bool{}
	for _, target := range docLinkTargets(contents) {
		if strings.HasPrefix(target, "#") {
			listed[target[1:]] = true
		}
	}
	for _, h := range docHeadings(readme) {
		if h.level == 2 && h.text != "Contents" && !listed[h.anchor] {
			problems = append(problems, fmt.Sprintf("README.md: the contents do not link to \"## %s\" (#%s)", h.text, h.anchor))
		}
	}
	return problems
}

// The repository's Markdown front page and pages: README.md and docs/*.md.
func docPages(t *testing.T, root string) []string {
	t.Helper()
	pages, err := filepath.Glob(filepath.Join(root, "docs", "*.md"))
	require.NoError(t, err)
	require.NotEmpty(t, pages, "docs/ has no pages")
	out := []string{"README.md"}
	for _, p := range pages {
		rel, err := filepath.Rel(root, p)
		require.NoError(t, err)
		out = append(out, filepath.ToSlash(rel))
	}
	sort.Strings(out[1:])
	return out
}

func TestReadmeIsAFrontPage(t *testing.T) {
	root, err := harness.RepoRoot()
	require.NoError(t, err)
	b, err := os.ReadFile(filepath.Join(root, "README.md"))
	require.NoError(t, err)
	readme := string(b)
	assert.Empty(t, checkFrontPage(readme))
	// .ci/run runs the test command README gives.
	assert.Contains(t, readme, "\n## Test\n\n```sh\nmake test\n```\n", "README.md, Test: the test command")
	// README says where the 2019 article is wrong or obsolete, and links every docs page.
	assert.Contains(t, docAnchors(readme), "changes-from-the-2019-article")
	_, more, ok := strings.Cut(readme, "\n## Where to read more\n")
	require.True(t, ok, "README.md has a \"Where to read more\" section")
	linked := map[string]bool{}
	for _, target := range docLinkTargets(more) {
		file, _, _ := strings.Cut(target, "#")
		linked[file] = true
	}
	for _, p := range docPages(t, root)[1:] {
		assert.True(t, linked[p], "README.md, Where to read more: no link to %s", p)
	}
}

func TestDocLinksAnchorsAndMakeTargetsResolve(t *testing.T) {
	root, err := harness.RepoRoot()
	require.NoError(t, err)
	makefile, err := os.ReadFile(filepath.Join(root, "Makefile"))
	require.NoError(t, err)
	d := docFiles{root: root, target: makefileTargets(string(makefile))}
	require.Subset(t, keysOf(d.target), []string{"test", "demo", "e2e", "e2e-realpods"}, "the Makefile's targets as read")

	links, targets := 0, 0
	for _, p := range docPages(t, root) {
		assert.Empty(t, checkDoc(d, p), p)
		md, _ := d.read(p)
		links += len(docLinkTargets(md))
		targets += len(docMakeTargets(md))
	}
	// The checks saw what they check: the pages link to each other and name make targets.
	assert.Greater(t, links, 80)
	assert.Greater(t, targets, 20)

	t.Run("the checks fail on what they exist for", func(t *testing.T) {
		docs := map[string]string{
			"docs/a.md":       "# A\n\n## Real heading\n\n## Same\n\n## Same\n\n## `make demo`: try it\n",
			"components/x.go": "package x\n",
			"Makefile":        "test:\n\tgo test ./...\n",
		}
		cases := []struct {
			name, file, md string
			want           string // in one problem; empty: no problem
		}{
			{"good links", "README.md", "[a](docs/a.md), [h](docs/a.md#real-heading), [dir](components), " +
				"[d](docs/a.md#same-1), [t](docs/a.md#make-demo-try-it), [w](https://example.org/#x), `make test`", ""},
			{"relative to docs/", "docs/b.md", "[up](../components/x.go) [a](a.md#same) [self](#b)\n\n# B\n", ""},
			{"links in code are text", "README.md", "`[x](missing.md)`\n\n```\n[y](gone.md)\n```\n" +
				"`sudo apt-get install -y make git`", ""},
			{"broken file link", "README.md", "see [the guide](docs/missing.md) first", `"docs/missing.md"`},
			{"broken directory link", "docs/b.md", "[c](../component/x.go)", `"../component/x.go"`},
			{"link relative to the wrong directory", "docs/b.md", "[c](components/x.go)", `"components/x.go"`},
			{"link out of the repository", "docs/b.md", "[c](../../etc/passwd)", `"../../etc/passwd"`},
			{"broken same-file anchor", "README.md", "## Here\n\n[x](#there)", `"#there"`},
			{"broken anchor in another file", "README.md", "[x](docs/a.md#fake-heading)", `"docs/a.md#fake-heading"`},
			{"duplicate heading past its count", "README.md", "[x](docs/a.md#same-2)", `"docs/a.md#same-2"`},
			{"anchor punctuation kept", "README.md", "[x](docs/a.md#make-demo:-try-it)", `"docs/a.md#make-demo:-try-it"`},
			{"anchor into a non-Markdown file", "README.md", "[x](components/x.go#L1)", `"components/x.go#L1"`},
			{"unknown make target in a code span", "docs/b.md", "run `make e2e-everything` then", "make e2e-everything"},
			{"unknown make target in a code block", "README.md", "```sh\nmake test\nmake demo   # try it\n```", "make demo"},
			{"unknown make target after a separator", "README.md", "`cd x && CI=true make bench`", "make bench"},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				mem := map[string]string{tc.file: tc.md}
				for k, v := range docs {
					mem[k] = v
				}
				d := docFiles{mem: mem, target: makefileTargets(mem["Makefile"])}
				problems := checkDoc(d, tc.file)
				if tc.want == "" {
					assert.Empty(t, problems)
					return
				}
				require.NotEmpty(t, problems, "the checker found nothing wrong")
				assert.Contains(t, strings.Join(problems, "\n"), tc.want)
			})
		}
	})

	t.Run("the front page checks fail too", func(t *testing.T) {
		good := "# T\n\n## Contents\n\n- [A](#a)\n- [B `b`](#b-b)\n\n## A\n\n## B `b`\n\n### not listed\n"
		require.Empty(t, checkFrontPage(good))
		for name, c := range map[string]struct{ md, want string }{
			"a heading missing from the contents": {good + "\n## C: more\n", `"## C: more" (#c-more)`},
			"no contents":                         {strings.Replace(good, "## Contents", "## Index", 1), `no "## Contents"`},
			"too long":                            {good + strings.Repeat("line\n", readmeMaxLines), "more than 300"},
		} {
			t.Run(name, func(t *testing.T) {
				assert.Contains(t, strings.Join(checkFrontPage(c.md), "\n"), c.want)
			})
		}
	})
}

func keysOf(m map[string]bool) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}
