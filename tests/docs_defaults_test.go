package tests

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"

	policyrules "github.com/wso2-k8s/apim-gke/policy/rules"
	"github.com/wso2-k8s/apim-gke/stacks"
	"github.com/wso2-k8s/apim-gke/tests/harness"
)

// The configuration reference's tables say, for each setting, its default and what each stack
// runs: "default" where the stack file leaves it, else the value. Both are held to what the
// program resolves, so the page cannot drift from the code's defaults (which live once, in
// the components' WithDefaults) or from the stack files.
func TestConfigurationReferenceMatchesTheResolvedConfig(t *testing.T) {
	root, err := harness.RepoRoot()
	require.NoError(t, err)
	page, err := os.ReadFile(filepath.Join(root, "docs", "configuration.md"))
	require.NoError(t, err)
	resolved := map[string]map[string]any{}
	for _, stack := range stackNames {
		project, cfg, err := harness.LoadStackConfig(root, stack)
		require.NoError(t, err)
		resolved[stack], err = resolvedConfig(project, stack, cfg)
		require.NoError(t, err, stack)
	}
	rows := settingRows(string(page))
	compared := 0
	for _, r := range rows {
		for stack, cell := range r.stacks {
			got := policyrules.Lookup(resolved[stack], r.path)
			switch got.(type) {
			case string, float64, bool:
			default:
				continue // unresolved in this stack's mode (nodePool outside GKE), or a list or map
			}
			want := cell
			if cell == "default" {
				want = r.def
			}
			if empty[want] {
				want = ""
			}
			if !scalarCell.MatchString(want) && want != "" || strings.HasPrefix(want, "gcp:") {
				continue // prose, or the provider's own config (gcp:project)
			}
			compared++
			assert.Equal(t, want, fmt.Sprint(got), "docs/configuration.md: %s in %s (column %q, default %q)", r.path, stack, cell, r.def)
		}
	}
	assert.Greater(t, compared, 60, "the reference's settings were compared (%d rows)", len(rows))
}

// A wrong default or stack value in the reference is caught.
func TestConfigurationReferenceCheckCanFail(t *testing.T) {
	page := "## `gateway`\n\n| setting | type | default | dev |\n|---|---|---|---|\n| cpuTargetPercent | 1..100 | 75 | default |\n"
	rows := settingRows(page)
	require.Len(t, rows, 1)
	assert.Equal(t, settingRow{path: "gateway.cpuTargetPercent", def: "75", stacks: map[string]string{"dev": "default"}}, rows[0])
}

// empty are the reference's words for a setting left empty.
var empty = map[string]bool{"none": true, "ambient": true, "current": true}

// scalarCell is a table cell that is one value (a number, a word, a quantity, an image).
var scalarCell = regexp.MustCompile(`^[A-Za-z0-9_.:/@+-]+$`)

var (
	sectionKey  = regexp.MustCompile("^## `([a-zA-Z]+)`")
	settingName = regexp.MustCompile(`^[a-zA-Z][a-zA-Z0-9.]*$`)
	blockToken  = regexp.MustCompile(`([a-zA-Z][a-zA-Z0-9]*) \{|\}`)
)

type settingRow struct {
	path   string
	def    string
	stacks map[string]string
}

// settingRows reads every table of the page whose header is "setting | type | default | <stacks>":
// one row per single setting (rows that group several, "a / b", are prose). A setting is
// under its section's key (## `cluster`) unless it names its key itself (apim.image).
func settingRows(page string) []settingRow {
	var out []settingRow
	key := ""
	var header []string
	for _, line := range strings.Split(page, "\n") {
		if strings.HasPrefix(line, "## ") {
			key, header = "", nil
			if m := sectionKey.FindStringSubmatch(line); m != nil {
				key = m[1]
			}
			continue
		}
		if !strings.HasPrefix(line, "|") {
			header = nil
			continue
		}
		cells := splitRow(line)
		if len(cells) > 3 && cells[0] == "setting" && cells[2] == "default" {
			header = cells
			continue
		}
		if header == nil || strings.HasPrefix(cells[0], "---") || len(cells) != len(header) {
			continue
		}
		name := strings.Trim(cells[0], "`")
		if !settingName.MatchString(name) {
			continue
		}
		path := name
		if top, _, _ := strings.Cut(name, "."); !slices.Contains(stacks.Keys(), top) {
			if key == "" {
				continue
			}
			path = key + "." + name
		}
		r := settingRow{path: path, def: strings.Trim(cells[2], "`"), stacks: map[string]string{}}
		for i, stack := range header[3:] {
			r.stacks[stack] = strings.Trim(cells[3+i], "`")
		}
		out = append(out, r)
	}
	return out
}

func splitRow(line string) []string {
	line = strings.ReplaceAll(strings.Trim(strings.TrimSpace(line), "|"), `\|`, "\x00")
	var cells []string
	for _, c := range strings.Split(line, "|") {
		cells = append(cells, strings.ReplaceAll(strings.TrimSpace(c), "\x00", "|"))
	}
	return cells
}

// Pulumi.yaml's descriptions name settings with their defaults, "name (default X)" or
// "name (rule; default X)": each such single-value default is held to what the program
// resolves for a stack that leaves the setting unset.
func TestPulumiYAMLDefaultsMatchTheCode(t *testing.T) {
	root, err := harness.RepoRoot()
	require.NoError(t, err)
	var project struct {
		Config map[string]struct {
			Description string `yaml:"description"`
		} `yaml:"config"`
	}
	b, err := os.ReadFile(filepath.Join(root, "Pulumi.yaml"))
	require.NoError(t, err)
	require.NoError(t, yaml.Unmarshal(b, &project))
	resolved := map[string]map[string]any{}
	for _, stack := range stackNames {
		p, cfg, err := harness.LoadStackConfig(root, stack)
		require.NoError(t, err)
		// Every setting the stack file sets is removed: what is left resolves to defaults.
		for k, v := range cfg {
			if _, object := v.(map[string]any); object && !strings.Contains(k, ":") {
				cfg[k] = map[string]any{}
			}
		}
		if stack == "local" {
			cfg["cluster"] = map[string]any{"mode": "existing"}
		}
		resolved[stack], err = resolvedConfig(p, stack, cfg)
		require.NoError(t, err, stack)
	}
	compared := 0
	for key, c := range project.Config {
		for _, d := range yamlDefaults(c.Description) {
			path := key + "." + d.name
			for _, stack := range stackNames {
				got := policyrules.Lookup(resolved[stack], path)
				switch got.(type) {
				case string, float64, bool:
				default:
					continue
				}
				compared++
				assert.Equal(t, d.value, fmt.Sprint(got), "Pulumi.yaml says %s defaults to %s; in %s it resolves to %v", path, d.value, stack, got)
				break
			}
		}
	}
	assert.Greater(t, compared, 20, "Pulumi.yaml's defaults were compared")
}

type yamlDefault struct{ name, value string }

var yamlDefaultRe = regexp.MustCompile(`\b([a-zA-Z][a-zA-Z0-9]*) \((?:[^()]*?[;,] )?default ([^\s;,()]+)[;,)]`)

// yamlDefaults finds "name (default X)" in a description: one setting, one value. Settings
// inside "parent {...}" are named parent.name.
func yamlDefaults(description string) []yamlDefault {
	var out []yamlDefault
	for _, m := range yamlDefaultRe.FindAllStringSubmatchIndex(description, -1) {
		name, value := description[m[2]:m[3]], description[m[4]:m[5]]
		if strings.Contains(value, "/") && !strings.Contains(value, ":") || strings.Contains(value, "<") {
			continue // a/b lists several settings' defaults; <x> is a pattern
		}
		if empty[value] {
			value = ""
		}
		out = append(out, yamlDefault{strings.Join(append(openBlocks(description[:m[0]]), name), "."), value})
	}
	return out
}

// openBlocks are the "parent {" blocks still open at the end of text, outermost first.
func openBlocks(text string) []string {
	var open []string
	for _, tok := range blockToken.FindAllStringSubmatch(text, -1) {
		if tok[0] == "}" {
			if len(open) > 0 {
				open = open[:len(open)-1]
			}
			continue
		}
		open = append(open, tok[1])
	}
	return open
}
