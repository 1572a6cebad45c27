package tests

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wso2-k8s/apim-gke/components/analytics"
	"github.com/wso2-k8s/apim-gke/components/apim"
	"github.com/wso2-k8s/apim-gke/components/backend"
	"github.com/wso2-k8s/apim-gke/components/mysql"
	"github.com/wso2-k8s/apim-gke/components/publisher"
	"github.com/wso2-k8s/apim-gke/tests/harness"
)

// The Platform composes components by what they export about themselves (selectors, ports,
// port names, database names, health paths, container and volume names), never by writing
// their values again: a component that renames a label or moves a port then cannot leave the
// Platform's NetworkPolicies, routes or alerts pointing at the old one.
func TestPlatformWritesNoOtherComponentsIdentityAsALiteral(t *testing.T) {
	root, err := harness.RepoRoot()
	require.NoError(t, err)
	found := literalsIn(t, filepath.Join(root, "components", "platform"))
	for _, id := range componentIdentities() {
		assert.Empty(t, found[id], "components/platform writes %s as a literal; use the component's exported name", id)
	}
}

// The check finds a literal where one is written: a file with a selector, a port and a path.
func TestIdentityLiteralsAreFound(t *testing.T) {
	dir := t.TempDir()
	src := `package p
var a = selector("db", "database")
var b = 3306
var c = "/api/am/gateway/v2/server-startup-healthcheck"
`
	require.NoError(t, os.WriteFile(filepath.Join(dir, "p.go"), []byte(src), 0o644))
	found := literalsIn(t, dir)
	for _, id := range []string{`"database"`, "3306", `"/api/am/gateway/v2/server-startup-healthcheck"`} {
		assert.NotEmpty(t, found[id], "%s must be found", id)
	}
}

// componentIdentities are the other components' identities as they would be written in Go
// source (strings quoted). Words that are also config keys and child names ("backend",
// "gateway", "mysql": components' labels or container names too) are left out: the
// Platform names its config keys and children with them.
func componentIdentities() []string {
	strs := []string{
		publisher.Component, analytics.StoreComponent, mysql.Component, apim.ComponentControlPlane,
		mysql.APIMDatabase, mysql.SharedDatabase,
		apim.ReadinessPath, apim.DevportalPath, analytics.DashboardsHealthPath,
		apim.PortNameGatewayHTTPS, apim.PortNameWebSocketSecure, apim.PortNameWebSubSecure,
		string(apim.AnalyticsELK),
	}
	ports := []int{mysql.Port, apim.PortHTTPS, apim.PortHTTP, apim.PortGatewayHTTPS, apim.PortGatewayHTTP,
		apim.PortThrottle, apim.PortThrottleSSL, apim.PortEventHub, apim.PortWebSocketSecure, apim.PortWebSubSecure,
		backend.Port, analytics.HTTPPort, analytics.DashboardsPort}
	var out []string
	for _, s := range strs {
		out = append(out, strconv.Quote(s))
	}
	for _, p := range ports {
		out = append(out, fmt.Sprint(p))
	}
	return out
}

// literalsIn lists the string and integer literals of dir's non-test Go files, by their
// source text, with where each is.
func literalsIn(t *testing.T, dir string) map[string][]string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*.go"))
	require.NoError(t, err)
	require.NotEmpty(t, files)
	fset := token.NewFileSet()
	out := map[string][]string{}
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		file, err := parser.ParseFile(fset, f, nil, 0)
		require.NoError(t, err)
		ast.Inspect(file, func(n ast.Node) bool {
			if lit, ok := n.(*ast.BasicLit); ok && (lit.Kind == token.STRING || lit.Kind == token.INT) {
				v := lit.Value
				if lit.Kind == token.STRING {
					if s, err := strconv.Unquote(v); err == nil {
						v = strconv.Quote(s)
					}
				}
				out[v] = append(out[v], fset.Position(lit.Pos()).String())
			}
			return true
		})
	}
	return out
}
