package main

import (
	"encoding/xml"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
)

// A source file and where it came from.
type srcFile struct {
	Repo string // label of the checkout (owner/name)
	Path string // path inside the checkout, slash separated
	Abs  string // path on disk
}

// vfs maps a path (relative to the server home, e.g. repository/resources/conf/x.json) to the
// file that a build step puts there.
type vfs map[string]srcFile

// checkout is one input directory: a plain git clone at the right tag.
type checkout struct {
	Label string // owner/name
	Dir   string
}

func (c checkout) file(rel string) srcFile {
	return srcFile{Repo: c.Label, Path: rel, Abs: filepath.Join(c.Dir, filepath.FromSlash(rel))}
}

// walk lists the files below dir (relative to the checkout), slash separated, sorted.
func (c checkout) walk(dir string) []string {
	root := filepath.Join(c.Dir, filepath.FromSlash(dir))
	var out []string
	_ = filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		if d.IsDir() {
			if d.Name() == ".git" || d.Name() == "target" || d.Name() == "node_modules" {
				return filepath.SkipDir
			}
			return nil
		}
		rel, _ := filepath.Rel(c.Dir, p)
		out = append(out, filepath.ToSlash(rel))
		return nil
	})
	sort.Strings(out)
	return out
}

// xmlTexts returns the trimmed text of every element with one of the given local names.
func xmlTexts(r io.Reader, names ...string) ([]string, error) {
	want := map[string]bool{}
	for _, n := range names {
		want[n] = true
	}
	dec := xml.NewDecoder(r)
	dec.Strict = false
	dec.CharsetReader = passthroughCharset
	var out []string
	var stack []string
	var buf strings.Builder
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			stack = append(stack, t.Name.Local)
			buf.Reset()
		case xml.CharData:
			buf.Write(t)
		case xml.EndElement:
			if want[t.Name.Local] {
				if s := strings.TrimSpace(buf.String()); s != "" {
					out = append(out, s)
				}
			}
			buf.Reset()
			if len(stack) > 0 {
				stack = stack[:len(stack)-1]
			}
		}
	}
}

// installedFeatures reads the p2-profile pom of a distribution and returns the feature ids
// (without ".feature.group"/".feature") it installs, in any of its profiles.
func installedFeatures(pom string) (map[string]bool, error) {
	f, err := os.Open(pom)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	texts, err := xmlTexts(f, "id", "featureArtifactDef")
	if err != nil {
		return nil, fmt.Errorf("%s: %w", pom, err)
	}
	out := map[string]bool{}
	for _, t := range texts {
		if strings.Contains(t, ":") { // group:artifact:version
			parts := strings.Split(t, ":")
			if len(parts) >= 2 {
				out[strings.TrimSuffix(parts[1], ".feature")] = true
			}
			continue
		}
		if strings.HasSuffix(t, ".feature.group") {
			out[strings.TrimSuffix(t, ".feature.group")] = true
		}
	}
	return out, nil
}

// featureIncludes reads every feature pom in the checkouts and returns, per feature id, the
// feature ids it includes (includedFeatureDef), so installation can be closed transitively.
func featureIncludes(cos []checkout) map[string][]string {
	inc := map[string][]string{}
	artRe := regexp.MustCompile(`(?s)<artifactId>\s*([^<]+?\.feature)\s*</artifactId>`)
	for _, co := range cos {
		for _, p := range co.walk("") {
			if path.Base(p) != "pom.xml" || !strings.Contains(p, ".feature/") && !strings.HasSuffix(path.Dir(p), ".feature") {
				continue
			}
			b, err := os.ReadFile(filepath.Join(co.Dir, filepath.FromSlash(p)))
			if err != nil {
				continue
			}
			// the module's own artifactId: the first artifactId after </parent>
			s := string(b)
			if i := strings.Index(s, "</parent>"); i >= 0 {
				s = s[i:]
			}
			m := artRe.FindStringSubmatch(s)
			if m == nil {
				continue
			}
			id := strings.TrimSuffix(m[1], ".feature")
			texts, _ := xmlTexts(strings.NewReader(string(b)), "includedFeatureDef")
			for _, t := range texts {
				parts := strings.Split(t, ":")
				if len(parts) >= 2 {
					inc[id] = append(inc[id], strings.TrimSuffix(parts[1], ".feature"))
				}
			}
		}
	}
	return inc
}

func closeOver(ids map[string]bool, inc map[string][]string) {
	queue := make([]string, 0, len(ids))
	for id := range ids {
		queue = append(queue, id)
	}
	for len(queue) > 0 {
		id := queue[0]
		queue = queue[1:]
		for _, c := range inc[id] {
			if !ids[c] {
				ids[c] = true
				queue = append(queue, c)
			}
		}
	}
}

var (
	p2CopyRe = regexp.MustCompile(`natives\.copy\(\s*source\s*:\s*([^,]+?)\s*,\s*target\s*:\s*([^,)]+?)\s*(?:,[^)]*)?\)`)
	p2SrcRe  = regexp.MustCompile(`^\$\{installFolder\}/\.\./features/([^/_]+(?:\.[^/_]+)*)_\$\{feature\.version\}/?(.*)$`)
)

// p2Copy is one copy instruction of a feature's p2.inf that lands under repository/resources/conf.
type p2Copy struct {
	Feature string
	Src     srcFile // a file or a directory (Abs ends in a separator for directories)
	Target  string  // home-relative
	IsDir   bool
}

// featureCopies reads every p2.inf in a checkout and returns the copies into resources/conf.
func featureCopies(co checkout) []p2Copy {
	var out []p2Copy
	for _, p := range co.walk("") {
		if path.Base(p) != "p2.inf" {
			continue
		}
		b, err := os.ReadFile(filepath.Join(co.Dir, filepath.FromSlash(p)))
		if err != nil {
			continue
		}
		resDir := path.Dir(p)
		for _, m := range p2CopyRe.FindAllStringSubmatch(string(b), -1) {
			sm := p2SrcRe.FindStringSubmatch(strings.TrimSpace(m[1]))
			if sm == nil {
				continue
			}
			target := homePath(strings.TrimSpace(m[2]))
			if !strings.HasPrefix(target, "repository/resources/conf/") && target != "repository/resources/conf" {
				continue
			}
			rel := strings.TrimSuffix(sm[2], "/")
			src := co.file(path.Join(resDir, rel))
			st, err := os.Stat(src.Abs)
			if err != nil {
				continue
			}
			out = append(out, p2Copy{Feature: sm[1], Src: src, Target: strings.TrimSuffix(target, "/"), IsDir: st.IsDir()})
		}
	}
	return out
}

// homePath turns a p2 target (${installFolder} is repository/components/<profile>) into a
// server-home-relative path.
func homePath(t string) string {
	t = strings.Replace(t, "${installFolder}", "repository/components/default", 1)
	return path.Clean(t)
}

// stageP2 builds the p2-profile's resources/conf: the kernel's carbon-home overlaid with the
// copies of every installed feature. Features not installed are reported in skipped.
func stageP2(kernel checkout, comps []checkout, installed map[string]bool) (vfs, []string) {
	fs := vfs{}
	const kh = "distribution/kernel/carbon-home/"
	for _, p := range kernel.walk(kh + "repository/resources/conf") {
		fs[strings.TrimPrefix(p, kh)] = kernel.file(p)
	}
	var skipped []string
	for _, co := range comps {
		for _, c := range featureCopies(co) {
			if !installed[c.Feature] {
				skipped = append(skipped, fmt.Sprintf("%s:%s (feature %s not installed)", co.Label, c.Src.Path, c.Feature))
				continue
			}
			if !c.IsDir {
				fs[c.Target] = c.Src
				continue
			}
			for _, p := range co.walk(c.Src.Path) {
				fs[path.Join(c.Target, strings.TrimPrefix(p, c.Src.Path+"/"))] = co.file(p)
			}
		}
	}
	return fs, skipped
}

// kernelHome lists the kernel zip's files (its carbon-home) under resources/conf.
func kernelHome(kernel checkout) vfs {
	fs := vfs{}
	const kh = "distribution/kernel/carbon-home/"
	for _, p := range kernel.walk(kh + "repository/resources/conf") {
		fs[strings.TrimPrefix(p, kh)] = kernel.file(p)
	}
	return fs
}

type assemblyFileSet struct {
	Directory string   `xml:"directory"`
	Output    string   `xml:"outputDirectory"`
	Includes  []string `xml:"includes>include"`
	Excludes  []string `xml:"excludes>exclude"`
}

type assemblyFile struct {
	Source   string `xml:"source"`
	Output   string `xml:"outputDirectory"`
	DestName string `xml:"destName"`
}

type assembly struct {
	FileSets []assemblyFileSet `xml:"fileSets>fileSet"`
	Files    []assemblyFile    `xml:"files>file"`
}

var distRootRe = regexp.MustCompile(`^[^/]*\$\{pom\.version\}/?`)

// assembleTemplates follows the distribution's assembly descriptor (bin.xml) in order, later
// entries overwriting earlier ones, and returns the templates of the final distribution
// (paths relative to repository/resources/conf/templates).
func assembleTemplates(binXML, productModule string, product checkout, kernel vfs, p2 vfs) (vfs, error) {
	b, err := os.ReadFile(binXML)
	if err != nil {
		return nil, err
	}
	var asm assembly
	dec := xml.NewDecoder(strings.NewReader(string(b)))
	dec.Strict = false
	dec.CharsetReader = passthroughCharset
	if err := dec.Decode(&asm); err != nil {
		return nil, fmt.Errorf("%s: %w", binXML, err)
	}
	// resolve a descriptor directory to (a home-relative source vfs, prefix within it)
	source := func(dir string) (vfs, string) {
		dir = strings.TrimSpace(dir)
		const core = "wso2carbon-core-${carbon.kernel.version}"
		switch {
		case strings.HasPrefix(dir, "../../p2-profile/product/target/"+core):
			return p2, strings.TrimPrefix(strings.TrimPrefix(dir, "../../p2-profile/product/target/"+core), "/")
		case strings.HasPrefix(dir, "target/"+core):
			return kernel, strings.TrimPrefix(strings.TrimPrefix(dir, "target/"+core), "/")
		case strings.HasPrefix(dir, "src/") || strings.HasPrefix(dir, "./src/"):
			fs := vfs{}
			base := path.Join(productModule, strings.TrimPrefix(dir, "./"))
			for _, p := range product.walk(base) {
				fs[strings.TrimPrefix(p, base+"/")] = product.file(p)
			}
			return fs, ""
		}
		return nil, ""
	}
	const tplRoot = "repository/resources/conf/templates/"
	out := vfs{}
	for _, s := range asm.FileSets {
		fs, prefix := source(s.Directory)
		if fs == nil {
			continue
		}
		outDir := distRootRe.ReplaceAllString(strings.TrimSpace(s.Output), "")
		for p, f := range fs {
			rel := p
			if prefix != "" {
				if !strings.HasPrefix(p, prefix+"/") {
					continue
				}
				rel = strings.TrimPrefix(p, prefix+"/")
			}
			if len(s.Includes) > 0 && !matchAny(s.Includes, rel) {
				continue
			}
			if matchAny(s.Excludes, rel) {
				continue
			}
			dest := path.Join(outDir, rel)
			if strings.HasPrefix(dest, tplRoot) && strings.HasSuffix(dest, ".j2") {
				out[strings.TrimPrefix(dest, tplRoot)] = f
			}
		}
	}
	for _, fl := range asm.Files {
		src := strings.TrimSpace(fl.Source)
		if !strings.HasSuffix(src, ".j2") {
			continue
		}
		fs, prefix := source(path.Dir(src))
		if fs == nil {
			continue
		}
		key := path.Base(src)
		if prefix != "" {
			key = prefix + "/" + key
		}
		f, ok := fs[key]
		if !ok {
			continue
		}
		name := path.Base(src)
		if fl.DestName != "" {
			name = strings.TrimSpace(fl.DestName)
		}
		dest := path.Join(distRootRe.ReplaceAllString(strings.TrimSpace(fl.Output), ""), name)
		if strings.HasPrefix(dest, tplRoot) {
			out[strings.TrimPrefix(dest, tplRoot)] = f
		}
	}
	return out, nil
}

// matchAny reports whether rel matches one of the Ant-style patterns.
func matchAny(patterns []string, rel string) bool {
	for _, p := range patterns {
		if antMatch(strings.TrimSpace(p), rel) {
			return true
		}
	}
	return false
}

func antMatch(pattern, name string) bool {
	var re strings.Builder
	re.WriteString("^")
	for i := 0; i < len(pattern); i++ {
		c := pattern[i]
		switch {
		case strings.HasPrefix(pattern[i:], "**/"):
			re.WriteString("(?:.*/)?")
			i += 2
		case strings.HasPrefix(pattern[i:], "**"):
			re.WriteString(".*")
			i++
		case c == '*':
			re.WriteString("[^/]*")
		case c == '?':
			re.WriteString("[^/]")
		default:
			re.WriteString(regexp.QuoteMeta(string(c)))
		}
	}
	if strings.HasSuffix(pattern, "/") {
		re.WriteString(".*")
	}
	re.WriteString("$")
	ok, _ := regexp.MatchString(re.String(), name)
	return ok
}

type mergeTask struct {
	Base    string   `xml:"base"`
	Include []string `xml:"include>param"`
	Target  string   `xml:"target"`
}

// mergeTasks reads the json-merge plugin tasks of a distribution's product pom.
func mergeTasks(pom string) ([]mergeTask, error) {
	b, err := os.ReadFile(pom)
	if err != nil {
		return nil, err
	}
	dec := xml.NewDecoder(strings.NewReader(string(b)))
	dec.Strict = false
	dec.CharsetReader = passthroughCharset
	var out []mergeTask
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", pom, err)
		}
		if se, ok := tok.(xml.StartElement); ok && se.Name.Local == "task" {
			var t mergeTask
			if err := dec.DecodeElement(&t, &se); err != nil {
				return nil, err
			}
			out = append(out, t)
		}
	}
}

// passthroughCharset accepts the ISO-8859-1 declarations of WSO2's poms: the parts read here
// (element names, paths, ids) are ASCII.
func passthroughCharset(_ string, r io.Reader) (io.Reader, error) { return r, nil }
