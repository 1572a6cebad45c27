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
		comps      multi
	)
	flag.Var(&comps, "c", "component checkout (repeatable): a repository whose features install into the distribution, at the version product-apim pins; LABEL=DIR names it")
	flag.Parse()
	if *productDir == "" || *kernelDir == "" {
		flag.Usage()
		os.Exit(2)
	}
	if err := run(*productDir, *dist, *kernelDir, *mapperDir, comps, *out); err != nil {
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

// provenance describes a checkout: repository, tag and commit from git, or the first line of
// a .wso2keys-source file for inputs that are not git checkouts.
func provenance(c checkout) string {
	git := func(args ...string) string {
		b, err := exec.Command("git", append([]string{"-C", c.Dir}, args...)...).Output()
		if err != nil {
			return ""
		}
		return strings.TrimSpace(string(b))
	}
	if sha := git("rev-parse", "HEAD"); sha != "" {
		tag := git("describe", "--tags", "--exact-match", "HEAD")
		url := git("config", "--get", "remote.origin.url")
		if tag == "" {
			tag = "(no tag at HEAD)"
		}
		return fmt.Sprintf("%s %s %s %s", c.Label, tag, sha, url)
	}
	if b, err := os.ReadFile(filepath.Join(c.Dir, ".wso2keys-source")); err == nil {
		return strings.TrimSpace(strings.SplitN(string(b), "\n", 2)[0])
	}
	return c.Label + " (provenance unknown: not a git checkout and no .wso2keys-source)"
}

func run(productDir, dist, kernelDir, mapperDir string, compSpecs []string, outPath string) error {
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
		if ki.tpl && ki.unguarded && !ki.def && !ki.infer && !ki.mapped && !strings.Contains(k, "*") {
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
	fmt.Fprintf(w, "# deployment.toml keys read by WSO2 API Manager distribution %q, derived by tools/wso2keys.\n", dist)
	fmt.Fprintf(w, "# Regenerate with the commands in tools/wso2keys/README.md; do not edit by hand.\n#\n# Sources (label tag commit [url]):\n")
	fmt.Fprintf(w, "#   %s\n#   %s\n", provenance(product), provenance(kernel))
	for _, c := range comps {
		fmt.Fprintf(w, "#   %s\n", provenance(c))
	}
	if mapperNote != "" {
		fmt.Fprintf(w, "#   %s\n", mapperNote)
	}
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
# stands for any key below (a template iterates that map with .items()).
# A key is read if a template references it, it is a source key of key-mappings.json, or it
# appears in default.json or infer.json (as a condition or an inferred key).
# Flags: tpl = referenced by a template; xml = referenced by a template that renders an XML
# file (the config mapper writes the value verbatim, so it must already be XML-escaped);
# default = has a default in default.json; infer = set by infer.json; map = source key of
# key-mappings.json (renamed before templates see it); shipped = set in WSO2's shipped
# deployment.toml of this distribution (a key with only this flag is set by WSO2 itself but
# read by no template or JSON file: harmless, listed so checkers do not flag it).
# required = set in WSO2's shipped deployment.toml of this distribution AND referenced by a
# template outside every {% if %}/{% for %}/macro block without a |default filter AND with no
# value from default.json or infer.json AND not a key-mappings source. Leaving it out renders
# an empty value into a configuration file.
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
