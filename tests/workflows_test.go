package tests

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"

	"github.com/wso2-k8s/apim-gke/tests/harness"
)

// The supply-chain and least-privilege rules every GitHub workflow of this repository must keep.
// Each rule is a function from one parsed workflow to the problems it finds, so that the fixtures
// under testdata/workflows can prove each rule fails on the violation it exists for.

const (
	authAction   = "google-github-actions/auth"
	pulumiAction = "pulumi/actions"
	// prodRunnerLabel is the label of the self-hosted runner inside prod's VPC.
	prodRunnerLabel = "apim-prod"
)

var (
	// owner/repo[/path]@<40 hex>: a full commit SHA, which a tag push cannot move.
	pinnedUses = regexp.MustCompile(`^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+(/[^@\s]+)?@[0-9a-f]{40}$`)
	// the trailing comment naming the release the SHA belongs to: "# v7.0.1".
	versionComment = regexp.MustCompile(`^#\s*v?[0-9]+(\.[0-9]+)*\b`)
	// an exact CLI version, not a range.
	exactVersion = regexp.MustCompile(`^[0-9]+\.[0-9]+\.[0-9]+$`)
)

type wfStep struct {
	Uses        string // "" for run steps
	UsesComment string // the comment on the uses: line
	Line        int
	With        map[string]string
}

type wfJob struct {
	Name        string
	Line        int
	Uses        string // a job that calls a reusable workflow
	UsesComment string
	// Permissions as written on the job; nil when the job has none.
	Permissions map[string]string
	RunsOn      []string
	Environment string
	Steps       []wfStep
}

type workflowFile struct {
	Path string
	// Permissions at the top level: nil when absent; "read-all"/"write-all" are kept under "*".
	Permissions map[string]string
	Jobs        []wfJob
}

func mapValue(n *yaml.Node, key string) *yaml.Node {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}

// permissionsOf reads a permissions block: a mapping, or the shorthands read-all/write-all
// (kept as {"*": "read"/"write"}).
func permissionsOf(n *yaml.Node) map[string]string {
	if n == nil {
		return nil
	}
	out := map[string]string{}
	switch n.Kind {
	case yaml.ScalarNode:
		out["*"] = strings.TrimSuffix(n.Value, "-all")
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			out[n.Content[i].Value] = n.Content[i+1].Value
		}
	}
	return out
}

func parseWorkflow(t *testing.T, path string) workflowFile {
	t.Helper()
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	var doc yaml.Node
	require.NoError(t, yaml.Unmarshal(data, &doc), path)
	require.Len(t, doc.Content, 1, "%s: one YAML document", path)
	root := doc.Content[0]

	wf := workflowFile{Path: path, Permissions: permissionsOf(mapValue(root, "permissions"))}
	jobs := mapValue(root, "jobs")
	require.NotNil(t, jobs, "%s: no jobs", path)
	for i := 0; i+1 < len(jobs.Content); i += 2 {
		name, body := jobs.Content[i], jobs.Content[i+1]
		j := wfJob{Name: name.Value, Line: name.Line, Permissions: permissionsOf(mapValue(body, "permissions"))}
		if u := mapValue(body, "uses"); u != nil {
			j.Uses, j.UsesComment = u.Value, u.LineComment
		}
		if ro := mapValue(body, "runs-on"); ro != nil {
			if ro.Kind == yaml.SequenceNode {
				for _, l := range ro.Content {
					j.RunsOn = append(j.RunsOn, l.Value)
				}
			} else {
				j.RunsOn = []string{ro.Value}
			}
		}
		if env := mapValue(body, "environment"); env != nil {
			if env.Kind == yaml.MappingNode {
				env = mapValue(env, "name")
			}
			if env != nil {
				j.Environment = env.Value
			}
		}
		if steps := mapValue(body, "steps"); steps != nil {
			for _, s := range steps.Content {
				st := wfStep{Line: s.Line, With: map[string]string{}}
				if u := mapValue(s, "uses"); u != nil {
					st.Uses, st.UsesComment, st.Line = u.Value, u.LineComment, u.Line
				}
				if w := mapValue(s, "with"); w != nil {
					for k := 0; k+1 < len(w.Content); k += 2 {
						st.With[w.Content[k].Value] = w.Content[k+1].Value
					}
				}
				j.Steps = append(j.Steps, st)
			}
		}
		wf.Jobs = append(wf.Jobs, j)
	}
	return wf
}

// actionName is "owner/repo[/path]" of a uses: reference, without the ref.
func actionName(uses string) string {
	name, _, _ := strings.Cut(uses, "@")
	return name
}

func (j wfJob) usesAction(name string) bool {
	for _, s := range j.Steps {
		if actionName(s.Uses) == name {
			return true
		}
	}
	return false
}

// checkPinned: every uses: names a full commit SHA with its release in a trailing comment.
// Local actions (./...) are exempt: they come from the same commit as the workflow. Docker
// images must be pinned by digest.
func checkPinned(wf workflowFile) []string {
	var problems []string
	check := func(where string, line int, uses, comment string) {
		switch {
		case uses == "" || strings.HasPrefix(uses, "./"):
		case strings.HasPrefix(uses, "docker://"):
			if !strings.Contains(uses, "@sha256:") {
				problems = append(problems, fmt.Sprintf("%s:%d: %s: %q is not pinned by digest", wf.Path, line, where, uses))
			}
		case !pinnedUses.MatchString(uses):
			problems = append(problems, fmt.Sprintf("%s:%d: %s: %q is not pinned to a 40-hex commit SHA", wf.Path, line, where, uses))
		case !versionComment.MatchString(comment):
			problems = append(problems, fmt.Sprintf("%s:%d: %s: %q needs its release as a trailing comment (# vX.Y.Z)", wf.Path, line, where, uses))
		}
	}
	for _, j := range wf.Jobs {
		check("job "+j.Name, j.Line, j.Uses, j.UsesComment)
		for _, s := range j.Steps {
			check("job "+j.Name, s.Line, s.Uses, s.UsesComment)
		}
	}
	return problems
}

// checkTopLevelPermissions: the workflow's default token is read-only, and present (an absent
// block gives the repository's default, which may be write-all).
func checkTopLevelPermissions(wf workflowFile) []string {
	if wf.Permissions == nil {
		return []string{wf.Path + ": no top-level permissions block (the default token may be read-write)"}
	}
	var problems []string
	for scope, level := range wf.Permissions {
		if level != "read" && level != "none" {
			problems = append(problems, fmt.Sprintf("%s: top-level permission %s: %s (only read or none)", wf.Path, scope, level))
		}
	}
	sort.Strings(problems)
	return problems
}

// checkIDToken: id-token: write is granted on exactly the jobs that authenticate to Google
// Cloud, and nowhere else.
func checkIDToken(wf workflowFile) []string {
	var problems []string
	if lvl, ok := wf.Permissions["id-token"]; ok && lvl == "write" || wf.Permissions["*"] == "write" {
		problems = append(problems, wf.Path+": id-token: write at the top level (grant it on the job that uses "+authAction+")")
	}
	for _, j := range wf.Jobs {
		write := j.Permissions["id-token"] == "write" || j.Permissions["*"] == "write"
		auth := j.usesAction(authAction)
		switch {
		case write && !auth:
			problems = append(problems, fmt.Sprintf("%s:%d: job %s has id-token: write but does not use %s", wf.Path, j.Line, j.Name, authAction))
		case auth && !write:
			problems = append(problems, fmt.Sprintf("%s:%d: job %s uses %s without id-token: write on the job", wf.Path, j.Line, j.Name, authAction))
		}
	}
	return problems
}

// checkPullRequestsWrite: pull-requests: write only where a pulumi/actions step comments.
func checkPullRequestsWrite(wf workflowFile) []string {
	var problems []string
	if wf.Permissions["pull-requests"] == "write" {
		problems = append(problems, wf.Path+": pull-requests: write at the top level")
	}
	for _, j := range wf.Jobs {
		comments := false
		for _, s := range j.Steps {
			if actionName(s.Uses) == pulumiAction && s.With["comment-on-pr"] == "true" {
				comments = true
			}
		}
		if j.Permissions["pull-requests"] == "write" && !comments {
			problems = append(problems, fmt.Sprintf("%s:%d: job %s has pull-requests: write but posts no comment", wf.Path, j.Line, j.Name))
		}
	}
	return problems
}

// pulumiVersions returns the pulumi-version of every pulumi/actions step, and problems for the
// steps that do not pin one exact version.
func pulumiVersions(wf workflowFile) (versions map[string]bool, problems []string) {
	versions = map[string]bool{}
	for _, j := range wf.Jobs {
		for _, s := range j.Steps {
			if actionName(s.Uses) != pulumiAction {
				continue
			}
			v := s.With["pulumi-version"]
			if !exactVersion.MatchString(v) {
				problems = append(problems, fmt.Sprintf("%s:%d: job %s: pulumi-version %q is not one exact version (X.Y.Z)", wf.Path, s.Line, j.Name, v))
				continue
			}
			versions[v] = true
		}
	}
	return versions, problems
}

// checkProdPlacement: a job that runs Pulumi on the prod stack runs on the runner inside
// prod's VPC, and a prod `up` runs in the production environment.
func checkProdPlacement(wf workflowFile) []string {
	var problems []string
	for _, j := range wf.Jobs {
		for _, s := range j.Steps {
			if actionName(s.Uses) != pulumiAction || s.With["stack-name"] != "prod" {
				continue
			}
			hasLabel := func(l string) bool {
				for _, x := range j.RunsOn {
					if x == l {
						return true
					}
				}
				return false
			}
			if !hasLabel("self-hosted") || !hasLabel(prodRunnerLabel) {
				problems = append(problems, fmt.Sprintf("%s:%d: job %s runs Pulumi on prod on %v, not on [self-hosted, %s] (prod's endpoint is private)", wf.Path, j.Line, j.Name, j.RunsOn, prodRunnerLabel))
			}
			if cmd := s.With["command"]; cmd != "preview" && j.Environment != "production" {
				problems = append(problems, fmt.Sprintf("%s:%d: job %s runs pulumi %s on prod outside the production environment", wf.Path, j.Line, j.Name, cmd))
			}
		}
	}
	return problems
}

// policyPackDir is the policy pack every preview runs (policy/PulumiPolicy.yaml).
const policyPackDir = "policy"

// checkPolicyPack: every Pulumi preview runs the project's policy pack, so a mandatory
// violation fails the pull request's check.
func checkPolicyPack(wf workflowFile) []string {
	var problems []string
	for _, j := range wf.Jobs {
		for _, s := range j.Steps {
			if actionName(s.Uses) != pulumiAction || s.With["command"] != "preview" {
				continue
			}
			if !slices.Contains(strings.Fields(s.With["policyPacks"]), policyPackDir) {
				problems = append(problems, fmt.Sprintf("%s:%d: job %s previews %s without the policy pack (policyPacks: %s)", wf.Path, s.Line, j.Name, s.With["stack-name"], policyPackDir))
			}
		}
	}
	return problems
}

func repoWorkflows(t *testing.T) []workflowFile {
	t.Helper()
	root, err := harness.RepoRoot()
	require.NoError(t, err)
	var paths []string
	for _, pattern := range []string{"*.yml", "*.yaml"} {
		m, err := filepath.Glob(filepath.Join(root, ".github", "workflows", pattern))
		require.NoError(t, err)
		paths = append(paths, m...)
	}
	require.NotEmpty(t, paths, "no workflows found")
	sort.Strings(paths)
	var out []workflowFile
	for _, p := range paths {
		out = append(out, parseWorkflow(t, p))
	}
	return out
}

// The Pulumi CLI the end-to-end suite builds (tests/e2e/tools/pulumi/go.mod): CI runs the same.
func e2ePulumiVersion(t *testing.T) string {
	t.Helper()
	root, err := harness.RepoRoot()
	require.NoError(t, err)
	data, err := os.ReadFile(filepath.Join(root, "tests", "e2e", "tools", "pulumi", "go.mod"))
	require.NoError(t, err)
	m := regexp.MustCompile(`(?m)^\s*github\.com/pulumi/pulumi/pkg/v3 v([0-9]+\.[0-9]+\.[0-9]+)\b`).FindSubmatch(data)
	require.NotNil(t, m, "tests/e2e/tools/pulumi/go.mod does not require github.com/pulumi/pulumi/pkg/v3")
	return string(m[1])
}

func TestWorkflowsPinEveryActionToACommit(t *testing.T) {
	for _, wf := range repoWorkflows(t) {
		assert.Empty(t, checkPinned(wf), wf.Path)
	}
}

func TestWorkflowsTopLevelPermissionsAreReadOnly(t *testing.T) {
	for _, wf := range repoWorkflows(t) {
		assert.Empty(t, checkTopLevelPermissions(wf), wf.Path)
	}
}

func TestWorkflowsGrantIDTokenOnlyToJobsThatAuthenticate(t *testing.T) {
	authenticating := 0
	for _, wf := range repoWorkflows(t) {
		assert.Empty(t, checkIDToken(wf), wf.Path)
		assert.Empty(t, checkPullRequestsWrite(wf), wf.Path)
		for _, j := range wf.Jobs {
			if j.usesAction(authAction) {
				authenticating++
			}
		}
	}
	assert.Positive(t, authenticating, "no job authenticates to Google Cloud: the check would be vacuous")
}

func TestWorkflowsPinOnePulumiVersion(t *testing.T) {
	all := map[string][]string{}
	for _, wf := range repoWorkflows(t) {
		versions, problems := pulumiVersions(wf)
		assert.Empty(t, problems, wf.Path)
		for v := range versions {
			all[v] = append(all[v], filepath.Base(wf.Path))
		}
	}
	require.Len(t, all, 1, "the workflows must pin one Pulumi CLI version, found %v", all)
	for v := range all {
		assert.Equal(t, e2ePulumiVersion(t), v, "CI's Pulumi CLI must be the one tests/e2e builds")
	}
}

func TestWorkflowsRunThePolicyPackOnEveryPreview(t *testing.T) {
	root, err := harness.RepoRoot()
	require.NoError(t, err)
	_, err = os.Stat(filepath.Join(root, policyPackDir, "PulumiPolicy.yaml"))
	require.NoError(t, err, "the pack the previews run")
	previews := 0
	for _, wf := range repoWorkflows(t) {
		assert.Empty(t, checkPolicyPack(wf), wf.Path)
		for _, j := range wf.Jobs {
			for _, s := range j.Steps {
				if actionName(s.Uses) == pulumiAction && s.With["command"] == "preview" {
					previews++
				}
			}
		}
	}
	assert.Equal(t, 2, previews, "expected dev's and prod's previews")
}

func TestWorkflowsRunProdInsideTheVPC(t *testing.T) {
	prodJobs := 0
	for _, wf := range repoWorkflows(t) {
		assert.Empty(t, checkProdPlacement(wf), wf.Path)
		for _, j := range wf.Jobs {
			for _, s := range j.Steps {
				if actionName(s.Uses) == pulumiAction && s.With["stack-name"] == "prod" {
					prodJobs++
				}
			}
		}
	}
	assert.Equal(t, 2, prodJobs, "expected prod's preview and prod's deploy")
}

// Each fixture breaks one rule; the check for that rule must report it, on the right line.
func TestWorkflowChecksCatchViolations(t *testing.T) {
	root, err := harness.RepoRoot()
	require.NoError(t, err)
	fixture := func(name string) workflowFile {
		return parseWorkflow(t, filepath.Join(root, "tests", "testdata", "workflows", name))
	}
	only := func(t *testing.T, problems []string, want ...string) {
		t.Helper()
		require.Len(t, problems, len(want), "problems: %q", problems)
		for i, w := range want {
			assert.Contains(t, problems[i], w)
		}
	}

	t.Run("unpinned checkout", func(t *testing.T) {
		only(t, checkPinned(fixture("unpinned.yml")), `unpinned.yml:12: job build: "actions/checkout@v4" is not pinned to a 40-hex commit SHA`)
	})
	t.Run("SHA without its release comment", func(t *testing.T) {
		only(t, checkPinned(fixture("sha-without-comment.yml")), "needs its release as a trailing comment")
	})
	t.Run("short SHA", func(t *testing.T) {
		only(t, checkPinned(fixture("short-sha.yml")), "is not pinned to a 40-hex commit SHA")
	})
	t.Run("write at the top level", func(t *testing.T) {
		wf := fixture("write-top-level.yml")
		only(t, checkTopLevelPermissions(wf), "top-level permission contents: write")
	})
	t.Run("no top-level permissions", func(t *testing.T) {
		only(t, checkTopLevelPermissions(fixture("no-permissions.yml")), "no top-level permissions block")
	})
	t.Run("id-token at the top level", func(t *testing.T) {
		wf := fixture("id-token-top-level.yml")
		only(t, checkTopLevelPermissions(wf), "top-level permission id-token: write")
		only(t, checkIDToken(wf), "id-token: write at the top level", "job deploy uses google-github-actions/auth without id-token: write on the job")
	})
	t.Run("id-token on a job that does not authenticate", func(t *testing.T) {
		only(t, checkIDToken(fixture("id-token-without-auth.yml")), "id-token-without-auth.yml:11: job test has id-token: write but does not use google-github-actions/auth")
	})
	t.Run("pull-requests: write without a comment", func(t *testing.T) {
		only(t, checkPullRequestsWrite(fixture("id-token-without-auth.yml")), "job test has pull-requests: write but posts no comment")
	})
	t.Run("Pulumi CLI as a range", func(t *testing.T) {
		_, problems := pulumiVersions(fixture("pulumi-range.yml"))
		only(t, problems, `pulumi-version "^3" is not one exact version`)
	})
	t.Run("prod on a GitHub-hosted runner, deployed outside production", func(t *testing.T) {
		only(t, checkProdPlacement(fixture("prod-hosted.yml")), "runs Pulumi on prod on [ubuntu-latest]", "runs pulumi up on prod outside the production environment")
	})
	t.Run("a preview without the policy pack", func(t *testing.T) {
		only(t, checkPolicyPack(fixture("preview-without-policy.yml")),
			"preview-without-policy.yml:12: job preview previews dev without the policy pack", "preview-without-policy.yml:17: job preview previews prod without the policy pack")
	})
	t.Run("the repository's own workflows pass every check", func(t *testing.T) {
		for _, wf := range repoWorkflows(t) {
			assert.Empty(t, append(append(append(checkPinned(wf), checkIDToken(wf)...), checkTopLevelPermissions(wf)...), checkPolicyPack(wf)...))
		}
	})
}
