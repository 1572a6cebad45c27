// Package fidelity checks rendered WSO2 API Manager configuration against facts derived from
// WSO2's own sources (see tools/wso2keys and tests/testdata/wso2/<version>/): which
// deployment.toml keys a distribution reads, which of them land in XML templates, which are
// required, and what each published image expects (ports, user, paths, probes).
package fidelity

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strings"
)

// Distribution names accepted by Load.
const (
	AllInOne    = "all-in-one"
	UniversalGW = "universal-gw"
)

// KeyInfo is one line of a key list.
type KeyInfo struct {
	Key      string
	Template bool // referenced by a template
	XML      bool // referenced by a template that renders an XML file: values must be XML-escaped
	Required bool // see the definition in the key list's header
	Default  bool // has a value in default.json
	Inferred bool // set by infer.json
	Mapped   bool // a source key of key-mappings.json (renamed before templates see it)
	Shipped  bool // set in WSO2's shipped deployment.toml of the distribution
	Origins  []string
}

// Rules is the key list of one distribution of one version.
type Rules struct {
	Version string
	Dist    string
	Header  []string // the data file's comment lines (provenance, definitions)
	Keys    map[string]*KeyInfo
	wild    []*KeyInfo // keys containing "*" or an infer.json "$N" segment
}

// Finding is one problem found in a rendered file.
type Finding struct {
	Key     string
	Kind    string // "unread", "xml-escape", "required"
	Problem string
}

func (f Finding) String() string { return f.Key + ": " + f.Problem }

// DataDir returns the directory holding the derived facts of a version. It is
// tests/testdata/wso2/<version> next to this package, or $WSO2_FIDELITY_DATA/<version>.
func DataDir(version string) string {
	if d := os.Getenv("WSO2_FIDELITY_DATA"); d != "" {
		return filepath.Join(d, version)
	}
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "testdata", "wso2", version)
}

// Load reads the key list of a distribution ("all-in-one" or "universal-gw"; "gateway" is an
// alias of the latter) of a version, e.g. Load("4.7.0", "all-in-one").
func Load(version, dist string) (*Rules, error) {
	dist = canonicalDist(dist)
	r, err := LoadFile(filepath.Join(DataDir(version), "keys-"+dist+".txt"))
	if err != nil {
		return nil, err
	}
	r.Version, r.Dist = version, dist
	return r, nil
}

// LoadFile reads a key list written by tools/wso2keys. Each non-comment line is
// "key<TAB>flags<TAB>origins" with comma-separated flags (tpl, xml, required, default, infer,
// map, shipped) and comma-separated origins. A key whose only flag is shipped is set by WSO2's
// own deployment.toml but read by nothing; it is accepted.
func LoadFile(path string) (*Rules, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r := &Rules{Keys: map[string]*KeyInfo{}}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	n := 0
	for sc.Scan() {
		n++
		line := sc.Text()
		if strings.HasPrefix(line, "#") {
			r.Header = append(r.Header, strings.TrimPrefix(strings.TrimPrefix(line, "#"), " "))
			continue
		}
		if strings.TrimSpace(line) == "" {
			continue
		}
		parts := strings.Split(line, "\t")
		if len(parts) < 2 {
			return nil, fmt.Errorf("%s:%d: want key<TAB>flags<TAB>origins", path, n)
		}
		ki := &KeyInfo{Key: parts[0]}
		for _, fl := range strings.Split(parts[1], ",") {
			switch fl {
			case "tpl":
				ki.Template = true
			case "xml":
				ki.XML = true
			case "required":
				ki.Required = true
			case "default":
				ki.Default = true
			case "infer":
				ki.Inferred = true
			case "map":
				ki.Mapped = true
			case "shipped":
				ki.Shipped = true
			case "", "-":
			default:
				return nil, fmt.Errorf("%s:%d: unknown flag %q", path, n, fl)
			}
		}
		if len(parts) > 2 && parts[2] != "" {
			ki.Origins = strings.Split(parts[2], ",")
		}
		r.Keys[ki.Key] = ki
		if strings.Contains(ki.Key, "*") || IsPattern(ki.Key) {
			r.wild = append(r.wild, ki)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(r.Keys) == 0 {
		return nil, fmt.Errorf("%s: no keys", path)
	}
	return r, nil
}

// Lookup returns what the distribution knows of a concrete flattened key: the exact entry,
// else the entries of the wildcards that cover it (merged). ok is false if it is never read.
func (r *Rules) Lookup(key string) (KeyInfo, bool) {
	if ki, ok := r.Keys[key]; ok {
		out := *ki
		// an exact key may also sit below a wildcard that lands in XML
		for _, w := range r.wild {
			if MatchKey(w.Key, key) {
				out.XML = out.XML || w.XML
			}
		}
		return out, true
	}
	var out KeyInfo
	found := false
	for _, w := range r.wild {
		if MatchKey(w.Key, key) {
			found = true
			out.Key = key
			out.Template = out.Template || w.Template
			out.XML = out.XML || w.XML
			out.Origins = append(out.Origins, w.Key)
		}
	}
	return out, found
}

// Reads reports whether the distribution reads a concrete flattened key.
func (r *Rules) Reads(key string) bool {
	_, ok := r.Lookup(key)
	return ok
}

// entityRe matches the XML entities and character references a value may carry.
var entityRe = regexp.MustCompile(`^&(?:[A-Za-z_][A-Za-z0-9._-]*|#[0-9]+|#x[0-9A-Fa-f]+);`)

// XMLProblem describes why a string would break (or be mangled in) an XML file when written
// verbatim into element text or an attribute, or returns "" if it is safe.
func XMLProblem(s string) string {
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '&':
			if !entityRe.MatchString(s[i:]) {
				return fmt.Sprintf("bare '&' at offset %d (write &amp;)", i)
			}
		case '<':
			return fmt.Sprintf("'<' at offset %d (write &lt;)", i)
		case '>':
			return fmt.Sprintf("'>' at offset %d (write &gt;)", i)
		}
	}
	return ""
}

// CheckTOML parses a rendered deployment.toml and reports keys the distribution never reads,
// values of XML-bound keys that are not XML-safe, and required keys that are missing.
func (r *Rules) CheckTOML(rendered string) []Finding {
	flat, err := Flatten(rendered)
	if err != nil {
		return []Finding{{Key: "", Kind: "parse", Problem: "not valid TOML: " + err.Error()}}
	}
	var out []Finding
	for _, k := range SortedKeys(flat) {
		ki, ok := r.Lookup(k)
		if !ok {
			out = append(out, Finding{Key: k, Kind: "unread", Problem: fmt.Sprintf("WSO2 %s (%s) never reads this key", r.Version, r.Dist)})
			continue
		}
		if !ki.XML {
			continue
		}
		for _, v := range flat[k] {
			for _, s := range stringsIn(v) {
				if p := XMLProblem(s); p != "" {
					out = append(out, Finding{Key: k, Kind: "xml-escape", Problem: fmt.Sprintf("value %q lands in an XML template verbatim: %s", describe(s), p)})
				}
			}
		}
	}
	var req []string
	for k, ki := range r.Keys {
		if ki.Required {
			req = append(req, k)
		}
	}
	sort.Strings(req)
	for _, k := range req {
		if _, ok := flat[k]; !ok {
			out = append(out, Finding{Key: k, Kind: "required", Problem: "required key not set (see the key list header for the definition)"})
		}
	}
	return out
}

func stringsIn(v any) []string {
	switch t := v.(type) {
	case string:
		return []string{t}
	case []any:
		var out []string
		for _, e := range t {
			out = append(out, stringsIn(e)...)
		}
		return out
	}
	return nil
}

// Required returns the required keys, sorted.
func (r *Rules) Required() []string {
	var out []string
	for k, ki := range r.Keys {
		if ki.Required {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}

// canonicalDist maps the names a distribution goes by (its directory, its image, its role) to
// the one the data files use.
func canonicalDist(dist string) string {
	switch dist {
	case "gateway", "universal-gateway", "wso2am-universal-gw":
		return UniversalGW
	case "wso2am", "all-in-one-apim":
		return AllInOne
	}
	return dist
}
