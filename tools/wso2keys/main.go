// Command wso2keys derives, from WSO2's sources, the deployment.toml keys that one
// distribution of WSO2 API Manager reads, and writes them as a key list for tests/fidelity.
// See README.md beside this file for the inputs and the exact commands.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"github.com/wso2-k8s/apim-gke/tests/fidelity"
)

type multi []string

func (m *multi) String() string     { return strings.Join(*m, ",") }
func (m *multi) Set(s string) error { *m = append(*m, s); return nil }

type keyInfo struct {
	tpl, xml, def, infer, mapped, required bool
	shipped                                bool
	unguarded                              bool
	origins                                map[string]bool
}

func main() {
	var (
		productDir = flag.String("product", "", "checkout of wso2/product-apim at the release tag")
		dist       = flag.String("dist", "all-in-one-apim", "distribution module in product-apim: all-in-one-apim or gateway (universal gateway)")
		kernelDir  = flag.String("kernel", "", "checkout of wso2/carbon-kernel at the version product-apim pins (carbon.kernel.version)")
		mapperDir  = flag.String("config-mapper", "", "optional checkout of wso2/config-mapper at config.mapper.version (adds the [secrets] tables it reads itself)")
		out        = flag.String("out", "-", "output file")
		logsOut    = flag.String("logs-out", "", "optional output file for the distribution's log files and heap dump under repository/logs (tests/testdata/wso2/<version>/logs-<dist>.txt)")
		mapperOut  = flag.String("mapper-out", "", "optional output file for the merged key mappings, infer.json rules and default.json values (tests/testdata/wso2/<version>/mapper-<dist>.txt)")
		comps      multi
	)
	flag.Var(&comps, "c", "component checkout (repeatable): a repository whose features install into the distribution, at the version product-apim pins; LABEL=DIR names it")
	flag.Parse()
	if *productDir == "" || *kernelDir == "" {
		flag.Usage()
		os.Exit(2)
	}
	if err := run(*productDir, *dist, *kernelDir, *mapperDir, comps, *out, *mapperOut, *logsOut); err != nil {
		fmt.Fprintln(os.Stderr, "wso2keys:", err)
		os.Exit(1)
	}
}

func newCheckout(spec, def string) checkout {
	if i := strings.Index(spec, "="); i > 0 {
		return checkout{Label: spec[:i], Dir: spec[i+1:]}
	}
	return checkout{Label: def + filepath.Base(filepath.Clean(spec)), Dir: spec}
}

// provenance describes a checkout: the first line of its .wso2keys-source file when it has one
// (an input that is an export, a fork or a transcription says so there), else repository, tag
// and commit from git.
func provenance(c checkout) string {
	if b, err := os.ReadFile(filepath.Join(c.Dir, ".wso2keys-source")); err == nil {
		return strings.TrimSpace(strings.SplitN(string(b), "\n", 2)[0])
	}
	git := func(args ...string) string {
		b, err := exec.Command("git", append([]string{"-C", c.Dir}, args...)...).Output()
		if err != nil {
			return ""
		}
		return strings.TrimSpace(string(b))
	}
	if sha := git("rev-parse", "HEAD"); sha != "" {
		tag := releaseTag(strings.Fields(git("tag", "--points-at", "HEAD")))
		url := git("config", "--get", "remote.origin.url")
		if tag == "" {
			tag = "(no tag at HEAD)"
		}
		return strings.TrimSpace(fmt.Sprintf("%s %s %s %s", c.Label, tag, sha, url))
	}
	return c.Label + " (provenance unknown: not a git checkout and no .wso2keys-source)"
}

// releaseTag picks the tag to name a commit by: WSO2 tags a release commit with its
// release-candidate tags too (product-apim's v4.7.0 commit is also v4.7.0-rc2), so a tag
// without a pre-release suffix wins, else the first in order.
func releaseTag(tags []string) string {
	sort.Strings(tags)
	for _, t := range tags {
		if !strings.Contains(t, "-") {
			return t
		}
	}
	if len(tags) > 0 {
		return tags[0]
	}
	return ""
}

func run(productDir, dist, kernelDir, mapperDir string, compSpecs []string, outPath, mapperOutPath, logsOutPath string) error {
	product := checkout{Label: "wso2/product-apim", Dir: productDir}
	kernel := checkout{Label: "wso2/carbon-kernel", Dir: kernelDir}
	var comps []checkout
	for _, s := range compSpecs {
		comps = append(comps, newCheckout(s, ""))
	}
	module := dist + "/modules/distribution/product"
	var warnings []string

	installed, err := installedFeatures(filepath.Join(productDir, dist, "modules/p2-profile/product/pom.xml"))
	if err != nil {
		return err
	}
	closeOver(installed, featureIncludes(comps))

	p2, skipped := stageP2(kernel, comps, installed)
	for _, s := range skipped {
		if strings.Contains(s, ".j2") {
			warnings = append(warnings, "template of a feature this distribution does not install, ignored: "+s)
		}
	}
	templates, err := assembleTemplates(filepath.Join(productDir, module, "src/main/assembly/bin.xml"), module, product, kernelHome(kernel), p2)
	if err != nil {
		return err
	}

	keys := map[string]*keyInfo{}
	get := func(k string) *keyInfo {
		ki := keys[k]
		if ki == nil {
			ki = &keyInfo{origins: map[string]bool{}}
			keys[k] = ki
		}
		return ki
	}

	// Templates.
	var tplNames []string
	for t := range templates {
		tplNames = append(tplNames, t)
	}
	sort.Strings(tplNames)
	for _, t := range tplNames {
		f := templates[t]
		b, err := os.ReadFile(f.Abs)
		if err != nil {
			return err
		}
		isXML := strings.HasSuffix(strings.TrimSuffix(t, ".j2"), ".xml")
		for _, r := range AnalyzeTemplate(string(b)) {
			ki := get(r.Key)
			ki.tpl = true
			ki.xml = ki.xml || isXML
			ki.unguarded = ki.unguarded || !r.Guarded
			ki.origins[t] = true
		}
	}

	// JSON files, merged as the product pom's json-merge tasks say.
	tasks, err := mergeTasks(filepath.Join(productDir, module, "pom.xml"))
	if err != nil {
		return err
	}
	var jsonSources []string
	fragments := map[string][][]member{} // merged file name -> fragments in merge order
	for _, task := range tasks {
		name := path.Base(strings.TrimSpace(task.Target))
		var files []srcFile
		base := strings.TrimSpace(task.Base)
		if strings.HasPrefix(base, "${basedir}/") {
			rel := path.Join(module, strings.TrimPrefix(base, "${basedir}/"))
			files = append(files, product.file(rel))
		}
		for _, inc := range task.Include {
			n := path.Base(strings.TrimSpace(inc))
			if f, ok := p2["repository/resources/conf/"+n]; ok {
				files = append(files, f)
			} else {
				warnings = append(warnings, fmt.Sprintf("%s merge: %s not produced by any given checkout (missing input, or a file name WSO2's pom gets wrong)", name, n))
			}
		}
		for _, f := range files {
			b, err := os.ReadFile(f.Abs)
			if err != nil {
				warnings = append(warnings, fmt.Sprintf("%s merge: cannot read %s:%s", name, f.Repo, f.Path))
				continue
			}
			var m map[string]any
			if err := json.Unmarshal(b, &m); err != nil {
				warnings = append(warnings, fmt.Sprintf("%s:%s: %v", f.Repo, f.Path, err))
				continue
			}
			origin := path.Base(f.Path)
			jsonSources = append(jsonSources, fmt.Sprintf("%s <- %s:%s", name, f.Repo, f.Path))
			if ms, err := orderedMembers(b, f.Repo+":"+f.Path); err == nil {
				fragments[name] = append(fragments[name], ms)
			}
			switch name {
			case "default.json":
				for k := range m {
					ki := get(normKey(k))
					ki.def = true
					ki.origins[origin] = true
				}
			case "infer.json":
				for cond, v := range m {
					for _, c := range strings.Split(cond, ",") {
						ki := get(normKey(strings.TrimSpace(c)))
						ki.origins[origin] = true
					}
					if byValue, ok := v.(map[string]any); ok {
						for _, set := range byValue {
							if kv, ok := set.(map[string]any); ok {
								for k := range kv {
									ki := get(normKey(k))
									ki.infer = true
									ki.origins[origin] = true
								}
							}
						}
					}
				}
			case "key-mappings.json":
				for k := range m {
					ki := get(normKey(k))
					ki.mapped = true
					ki.origins[origin] = true
				}
			}
		}
	}

	// The config mapper's merged inputs, merged as the product pom's json-merge tasks do.
	mapper, mw := buildMapper(mergeFirstWins(fragments["key-mappings.json"]),
		mergeFirstWins(fragments["infer.json"]), mergeFirstWins(fragments["default.json"]))
	warnings = append(warnings, mw...)

	// infer.json rules keyed on "$N" patterns (carbon-kernel's database.$1.type) apply to every
	// key that matches them: bind each pattern to the concrete keys the distribution reads, so
	// database.shared_db.validationQuery is known to be inferred from database.shared_db.type.
	expandPatterns(mapper, keys, get)

	// Tables the config mapper reads itself.
	var mapperNote string
	if mapperDir != "" {
		mc := checkout{Label: "wso2/config-mapper", Dir: mapperDir}
		b, err := os.ReadFile(filepath.Join(mapperDir, "src/main/java/org/wso2/config/mapper/ConfigConstants.java"))
		if err != nil {
			return err
		}
		re := regexp.MustCompile(`(SECRET_PROPERTY_MAP_NAME|RUNTIME_SECRETS)\s*=\s*"([^"]+)"`)
		for _, m := range re.FindAllStringSubmatch(string(b), -1) {
			ki := get(m[2] + ".*")
			ki.origins["config-mapper:"+m[1]] = true
		}
		mapperNote = provenance(mc)
	}

	// Required: see the header for the definition.
	shippedPath := filepath.Join(productDir, module, "src/main/conf/deployment.toml")
	shippedDoc, err := os.ReadFile(shippedPath)
	if err != nil {
		return err
	}
	shipped, err := fidelity.Flatten(string(shippedDoc))
	if err != nil {
		return fmt.Errorf("%s: %w", shippedPath, err)
	}
	for k := range shipped {
		ki, ok := keys[k]
		if ok {
			ki.shipped = true
		}
		if !ok {
			// a shipped key must be read; if not, say so (it may be read through a wildcard)
			covered := false
			for p := range keys {
				if fidelity.MatchKey(p, k) {
					covered = true
					break
				}
			}
			if !covered {
				warnings = append(warnings, "WSO2's shipped deployment.toml sets a key no template/json reads: "+k)
				ki := get(k)
				ki.shipped = true
				ki.origins["shipped-deployment.toml"] = true
			}
			continue
		}
		if ki.tpl && ki.unguarded && !ki.def && !ki.mapped && !strings.Contains(k, "*") {
			ki.required = true
		}
	}

	// Output.
	var w io.Writer = os.Stdout
	if outPath != "-" {
		f, err := os.Create(outPath)
		if err != nil {
			return err
		}
		defer f.Close()
		w = f
	}
	var sources strings.Builder
	fmt.Fprintf(&sources, "# Regenerate with the commands in tools/wso2keys/README.md; do not edit by hand.\n#\n# Sources (label tag commit [url]):\n")
	fmt.Fprintf(&sources, "#   %s\n#   %s\n", provenance(product), provenance(kernel))
	for _, c := range comps {
		fmt.Fprintf(&sources, "#   %s\n", provenance(c))
	}
	if mapperNote != "" {
		fmt.Fprintf(&sources, "#   %s\n", mapperNote)
	}
	if logsOutPath != "" {
		if err := writeLogsFile(logsOutPath, product, module, dist, sources.String()); err != nil {
			return err
		}
	}
	if mapperOutPath != "" {
		if err := writeMapperFile(mapperOutPath, mapper, dist, sources.String(), jsonSources); err != nil {
			return err
		}
	}
	fmt.Fprintf(w, "# deployment.toml keys read by WSO2 API Manager distribution %q, derived by tools/wso2keys.\n", dist)
	fmt.Fprint(w, sources.String())
	fmt.Fprintf(w, "#\n# Templates of the assembled distribution (repository/resources/conf/templates/...):\n")
	for _, t := range tplNames {
		f := templates[t]
		fmt.Fprintf(w, "#   %s <- %s:%s\n", t, f.Repo, f.Path)
	}
	fmt.Fprintf(w, "#\n# JSON inputs of the config mapper:\n")
	for _, s := range jsonSources {
		fmt.Fprintf(w, "#   %s\n", s)
	}
	fmt.Fprintf(w, "#\n# Shipped deployment.toml: %s:%s\n", product.Label, path.Join(module, "src/main/conf/deployment.toml"))
	fmt.Fprint(w, `#
# Notation: dotted segments; 'a.b' is one segment holding a dot; "[]" follows an array of
# tables ([[apim.gateway.environment]] name -> apim.gateway.environment[].name); a final "*"
# stands for any key below (a template iterates that map with .items()); a "$N" segment is
# infer.json's pattern segment: one segment of word characters ([A-Za-z0-9_]), which the
# config mapper (v1.0.26 ValueInferrer) binds and substitutes into the inferred keys.
# A key is read if a template references it, it is a source key of key-mappings.json, or it
# appears in default.json or infer.json (as a condition or an inferred key). "$N" rules are
# also listed bound to every concrete key of this list they can set (database.$1.type ->
# database.shared_db.type, because templates read database.shared_db.validationQuery).
# Flags: tpl = referenced by a template; xml = referenced by a template that renders an XML
# file (the config mapper writes the value verbatim, so it must already be XML-escaped);
# default = has a default in default.json; infer = can be set by an infer.json rule, which
# fires only when deployment.toml itself sets the rule's condition key to the rule's value
# (the mapper infers before it adds defaults, so a default never triggers a rule; the rules
# and values are in mapper-<dist>.txt); map = source key of key-mappings.json (renamed before
# templates see it); shipped = set in WSO2's shipped deployment.toml of this distribution (a
# key with only this flag is set by WSO2 itself but read by no template or JSON file:
# harmless, listed so checkers do not flag it).
# required = set in WSO2's shipped deployment.toml of this distribution AND referenced by a
# template outside every {% if %}/{% for %}/macro block without a |default filter AND with no
# value from default.json AND not a key-mappings source. Leaving it out renders an empty value
# into a configuration file unless an infer.json rule's condition is set (see infer).
`)
	if len(warnings) > 0 {
		sort.Strings(warnings)
		fmt.Fprintf(w, "#\n# Warnings while deriving:\n")
		for _, s := range dedupe(warnings) {
			fmt.Fprintf(w, "#   %s\n", s)
		}
	}
	fmt.Fprintf(w, "#\n# key\tflags\torigins\n")
	var ks []string
	for k := range keys {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	for _, k := range ks {
		ki := keys[k]
		var fl []string
		for _, f := range []struct {
			on   bool
			name string
		}{{ki.tpl, "tpl"}, {ki.xml, "xml"}, {ki.required, "required"}, {ki.def, "default"}, {ki.infer, "infer"}, {ki.mapped, "map"}, {ki.shipped, "shipped"}} {
			if f.on {
				fl = append(fl, f.name)
			}
		}
		if len(fl) == 0 {
			fl = []string{"-"}
		}
		var os []string
		for o := range ki.origins {
			os = append(os, o)
		}
		sort.Strings(os)
		fmt.Fprintf(w, "%s\t%s\t%s\n", k, strings.Join(fl, ","), strings.Join(os, ","))
	}
	return nil
}

// normKey turns a key of WSO2's JSON files into the key-list notation: "a.b:c" (an element key
// of an array of tables in key-mappings.json) becomes "a.b[].c"; a stray trailing comma (as in
// WSO2's own "server.base_path,") is kept, since the config mapper keeps it too.
func normKey(k string) string {
	k = strings.ReplaceAll(k, "\"", "'")
	if i := strings.Index(k, ":"); i > 0 && !strings.Contains(k[:i], "'") {
		return k[:i] + "[]." + k[i+1:]
	}
	return k
}

func dedupe(s []string) []string {
	var out []string
	for i, v := range s {
		if i == 0 || v != s[i-1] {
			out = append(out, v)
		}
	}
	return out
}

func writeMapperFile(path string, m *fidelity.Mapper, dist, sources string, jsonSources []string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	var h strings.Builder
	fmt.Fprintf(&h, "# The config mapper's merged JSON inputs of WSO2 API Manager distribution %q, derived by tools/wso2keys.\n", dist)
	h.WriteString(sources)
	h.WriteString("#\n# Fragments (origin ids), merged in this order (wso2-maven-json-merge-plugin: the first file\n# that has a top-level key keeps it; later files only add keys):\n")
	ids := map[string]string{}
	for _, s := range jsonSources {
		for _, name := range []string{"key-mappings.json", "infer.json", "default.json"} {
			if strings.HasPrefix(s, name+" <- ") {
				origin := strings.TrimPrefix(s, name+" <- ")
				ids[origin] = fmt.Sprintf("%c%d", name[0], len(ids)+1)
				fmt.Fprintf(&h, "#   %s = %s\n", ids[origin], s)
			}
		}
	}
	h.WriteString(`#
# What the config mapper (wso2/config-mapper v1.0.26) does with them, in order: rename keys
# (key-mappings.json), infer keys (infer.json), add defaults (default.json); see
# tests/fidelity/mapper.go for the exact semantics. Values are JSON.
#
# map<TAB>key<TAB>new key (or list of keys; "" = dropped)<TAB>origin id
# infer<TAB>condition key or "$N" pattern<TAB>condition value<TAB>inferred key<TAB>value<TAB>origin id
#   (rules in the order the mapper tries them)
# default<TAB>key<TAB>value<TAB>origin id
`)
	return writeMapper(f, m, h.String(), ids)
}
