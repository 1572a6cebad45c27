package main

import (
	"os"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wso2-k8s/apim-gke/components/analytics"
	"github.com/wso2-k8s/apim-gke/tests/fidelity"
)

const root = "../.."

func readInput(t *testing.T, d dist) input {
	t.Helper()
	b, err := os.ReadFile(inputPath(root, d))
	require.NoError(t, err)
	in, err := parseInput(string(b))
	require.NoError(t, err)
	return in
}

// The files the product embeds are what the generator writes from the committed inputs: a
// hand edit, or a policy change without regenerating, fails here.
func TestCommittedFilesAreGenerated(t *testing.T) {
	for _, d := range dists {
		want, err := generate(root, d)
		require.NoError(t, err)
		got, err := os.ReadFile(outputPath(root, d))
		require.NoError(t, err)
		assert.Equal(t, want, string(got), "%s: run go run ./tools/log4j2gen", outputPath(root, d))
	}
}

// The committed inputs name their source and hold the same appenders as the log facts that
// tools/wso2keys read from the same files (tests/testdata/wso2/4.7.0/logs-<dist>.txt).
func TestInputsAgreeWithTheLogFacts(t *testing.T) {
	for _, d := range dists {
		in := readInput(t, d)
		assert.Equal(t, d.module+"/"+confPath, in.Path)
		assert.Regexp(t, `^wso2/product-apim v`+version+` [0-9a-f]{40}$`, in.Source)
		apps, err := fidelity.ParseLog4j2(in.Body)
		require.NoError(t, err)
		facts, err := fidelity.LoadLogFacts(version, d.name)
		require.NoError(t, err)
		sortApps := func(a []fidelity.Appender) []fidelity.Appender {
			sort.Slice(a, func(i, j int) bool { return a[i].Name < a[j].Name })
			return a
		}
		assert.Equal(t, sortApps(facts.Appenders), sortApps(apps), d.name)
	}
}

// What the check of the logs volume needs: every file appender under repository/logs rolls
// by size only, with a bound; names, files, layouts and loggers are WSO2's; the analytics
// shipper's file is still written by the ELK reporter's appender.
func TestGeneratedFilesAreBoundedAndKeepWSO2Logging(t *testing.T) {
	for _, d := range dists {
		in := readInput(t, d)
		b, err := os.ReadFile(outputPath(root, d))
		require.NoError(t, err)
		out := string(b)
		require.NoError(t, sameLogging(in.Body, out), d.name)
		apps, err := fidelity.ParseLog4j2(out)
		require.NoError(t, err)
		wso2, err := fidelity.ParseLog4j2(in.Body)
		require.NoError(t, err)
		require.Len(t, apps, len(wso2), "%s: no appender lost", d.name)
		for _, a := range apps {
			bound := a.Bound()
			assert.False(t, bound.Unbounded, "%s %s: %s", d.name, a.Name, bound.Why)
			assert.False(t, a.TimeBased, "%s %s rolls by size only", d.name, a.Name)
			assert.NotContains(t, a.FilePattern, "%d", "%s %s: no date in rolled names", d.name, a.Name)
		}
		p := fidelity.ParseProperties(out)
		assert.Equal(t, "${sys:carbon.home}/repository/logs/"+analytics.MetricsLog, p["appender.APIM_METRICS_APPENDER.fileName"], d.name)
		assert.Equal(t, "APIM_METRICS_APPENDER", p["logger.reporter.appenderRef.APIM_METRICS_APPENDER.ref"], d.name)
		assert.Equal(t, "org.wso2.am.analytics.publisher.reporter.elk", p["logger.reporter.name"], d.name)
		// Every line of WSO2's file is still there, as it was or as a "#- " comment.
		for _, l := range strings.Split(strings.TrimSuffix(in.Body, "\n"), "\n") {
			if l != "" && !strings.Contains(out, "\n"+l+"\n") && !strings.Contains(out, "\n#- "+l+"\n") {
				t.Errorf("%s: WSO2's line %q is neither kept nor shown replaced", d.name, l)
			}
		}
	}
}

func TestSizeOnlyPattern(t *testing.T) {
	for _, c := range []struct{ in, want, err string }{
		{in: "/l/wso2carbon-%d{MM-dd-yyyy}-%i.log", want: "/l/wso2carbon-%i.log"},
		{in: "/l/audit-%d{MM-dd-yyyy}.log", want: "/l/audit-%i.log"},
		{in: "/l/tm-%d{MM-dd-yyyy}.out", want: "/l/tm-%i.out"},
		{in: "/l/http_access_%d{MM-dd-yyyy}-%i.log", want: "/l/http_access_%i.log"},
		{in: "/l/correlation-%d{MM-dd-yyyy}-%i.log.gz", want: "/l/correlation-%i.log.gz"},
		{in: "/l/x-%i.log", want: "/l/x-%i.log"},
		{in: "/l/plain.log", want: "/l/plain-%i.log"},
		{in: "/l/x-%i-%d{yyyy}.log", err: "cannot make it size-only"},
	} {
		got, err := sizeOnlyPattern(c.in)
		if c.err != "" {
			assert.ErrorContains(t, err, c.err, c.in)
			continue
		}
		require.NoError(t, err, c.in)
		assert.Equal(t, c.want, got, c.in)
	}
}

const tiny = `appenders = CARBON_CONSOLE, CARBON_LOGFILE, ATOMIKOS_LOGFILE
appender.CARBON_CONSOLE.type = Console
appender.CARBON_CONSOLE.name = CARBON_CONSOLE
appender.CARBON_LOGFILE.type = RollingFile
appender.CARBON_LOGFILE.name = CARBON_LOGFILE
appender.CARBON_LOGFILE.fileName = ${sys:carbon.home}/repository/logs/wso2carbon.log
appender.CARBON_LOGFILE.filePattern = ${sys:carbon.home}/repository/logs/wso2carbon-%d{MM-dd-yyyy}-%i.log
appender.CARBON_LOGFILE.layout.type = PatternLayout
appender.CARBON_LOGFILE.policies.type = Policies
appender.CARBON_LOGFILE.policies.time.type = TimeBasedTriggeringPolicy
appender.CARBON_LOGFILE.policies.size.type = SizeBasedTriggeringPolicy
appender.CARBON_LOGFILE.policies.size.size = 10MB
appender.CARBON_LOGFILE.strategy.type = DefaultRolloverStrategy
appender.CARBON_LOGFILE.strategy.max = 20
appender.ATOMIKOS_LOGFILE.type = RollingFile
appender.ATOMIKOS_LOGFILE.name = ATOMIKOS_LOGFILE
appender.ATOMIKOS_LOGFILE.fileName = ${sys:carbon.home}/repository/logs/tm.out
appender.ATOMIKOS_LOGFILE.filePattern = ${sys:carbon.home}/repository/logs/tm-%d{MM-dd-yyyy}.out
appender.ATOMIKOS_LOGFILE.layout.type = PatternLayout
rootLogger.level = ERROR
`

// An appender with neither policies nor strategy gets both; a size policy and max
// are rewritten in place, the old lines kept as "#- " comments.
func TestRewriteAddsWhatIsMissing(t *testing.T) {
	out, _, err := rewrite(tiny)
	require.NoError(t, err)
	assert.Contains(t, out, `#- appender.CARBON_LOGFILE.policies.time.type = TimeBasedTriggeringPolicy
appender.CARBON_LOGFILE.policies.size.type = SizeBasedTriggeringPolicy
appender.CARBON_LOGFILE.policies.size.size = 10MB
appender.CARBON_LOGFILE.strategy.type = DefaultRolloverStrategy
#- appender.CARBON_LOGFILE.strategy.max = 20
appender.CARBON_LOGFILE.strategy.max = 10
`)
	assert.Contains(t, out, `appender.ATOMIKOS_LOGFILE.layout.type = PatternLayout
appender.ATOMIKOS_LOGFILE.policies.type = Policies
appender.ATOMIKOS_LOGFILE.policies.size.type = SizeBasedTriggeringPolicy
appender.ATOMIKOS_LOGFILE.policies.size.size = 10MB
appender.ATOMIKOS_LOGFILE.strategy.type = DefaultRolloverStrategy
appender.ATOMIKOS_LOGFILE.strategy.max = 3
rootLogger.level = ERROR
`)
	assert.Contains(t, out, "# apim-gke: ATOMIKOS_LOGFILE rolls at 10Mi only and keeps 3 rolled files, at most 40Mi (WSO2 4.7.0:\n# never rolled: the file has no size limit)")
}

// A new WSO2 file appender without a policy stops the generator, naming it.
func TestRewriteRefusesAnAppenderWithoutPolicy(t *testing.T) {
	src := strings.Replace(tiny, "appenders = CARBON_CONSOLE,", "appenders = CARBON_CONSOLE, NEW_ONE,", 1) + `appender.NEW_ONE.type = RollingFile
appender.NEW_ONE.name = NEW_ONE
appender.NEW_ONE.fileName = ${sys:carbon.home}/repository/logs/new.log
appender.NEW_ONE.filePattern = ${sys:carbon.home}/repository/logs/new-%d{MM-dd-yyyy}.log
`
	_, _, err := rewrite(src)
	assert.EqualError(t, err, "no rollover policy for NEW_ONE in tools/log4j2gen/policy.go: every file appender under repository/logs needs one")
}

// sameLogging refuses any change beyond rollover policies.
func TestSameLoggingRefusesOtherChanges(t *testing.T) {
	out, _, err := rewrite(tiny)
	require.NoError(t, err)
	for _, c := range []struct{ from, to, want string }{
		{"appender.CARBON_LOGFILE.fileName = ${sys:carbon.home}/repository/logs/wso2carbon.log", "appender.CARBON_LOGFILE.fileName = /tmp/x.log",
			`appender.CARBON_LOGFILE.fileName: WSO2 "${sys:carbon.home}/repository/logs/wso2carbon.log", ours "/tmp/x.log"`},
		{"rootLogger.level = ERROR", "rootLogger.level = WARN", `rootLogger.level: WSO2 "ERROR", ours "WARN"`},
		{"appender.CARBON_LOGFILE.layout.type = PatternLayout\n", "appender.CARBON_LOGFILE.layout.type = PatternLayout\nappender.CARBON_LOGFILE.filter.x = y\n",
			`appender.CARBON_LOGFILE.filter.x: added "y"`},
	} {
		bad := strings.Replace(out, c.from, c.to, 1)
		require.NotEqual(t, out, bad)
		assert.ErrorContains(t, sameLogging(tiny, bad), c.want)
	}
}
