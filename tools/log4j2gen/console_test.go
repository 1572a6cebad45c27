package main

import (
	"encoding/json"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wso2-k8s/apim-gke/tests/fidelity"
)

// render stands in for log4j2's PatternLayout on the conversions the console pattern uses,
// with an event's values: what it writes for one event.
func render(pattern string, level, logger, thread, message, exception string) string {
	enc := func(s string) string { b, _ := json.Marshal(s); return string(b[1 : len(b)-1]) }
	r := strings.NewReplacer("%enc{%c}{JSON}", enc(logger), "%enc{%t}{JSON}", enc(thread), "%enc{%m}{JSON}", enc(message),
		"%enc{%ex}{JSON}", enc(exception), "%d{yyyy-MM-dd'T'HH:mm:ss.SSS'Z'}{UTC}", "2026-12-04T10:00:00.123Z", "%n", "\n")
	out := r.Replace(pattern)
	return regexp.MustCompile(`%level\{([^}]*)\}`).ReplaceAllStringFunc(out, func(m string) string {
		for _, pair := range strings.Split(m[len("%level{"):len(m)-1], ",") {
			from, to, _ := strings.Cut(strings.TrimSpace(pair), "=")
			if from == level {
				return to
			}
		}
		return level
	})
}

// The console appender of both generated files writes one JSON object a line whose severity
// is one Cloud Logging knows, even for a message with quotes and a stack trace over many
// lines; no exception is appended after it.
func TestConsoleWritesStructuredLines(t *testing.T) {
	// Cloud Logging's LogSeverity names.
	severities := map[string]bool{"DEFAULT": true, "DEBUG": true, "INFO": true, "NOTICE": true, "WARNING": true,
		"ERROR": true, "CRITICAL": true, "ALERT": true, "EMERGENCY": true}
	for _, d := range dists {
		b, err := os.ReadFile(outputPath(root, d))
		require.NoError(t, err)
		p := fidelity.ParseProperties(string(b))
		pattern := p["appender.CARBON_CONSOLE.layout.pattern"]
		assert.Equal(t, "false", p["appender.CARBON_CONSOLE.layout.alwaysWriteExceptions"], d.name)
		for _, level := range []string{"TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL"} {
			line := render(pattern, level, "org.wso2.carbon.Foo", "main", `said "hi" \ there`,
				"java.lang.IllegalStateException: boom\n\tat org.wso2.Foo.bar(Foo.java:1)")
			require.True(t, strings.HasSuffix(line, "}\n"), line)
			assert.Equal(t, 1, strings.Count(line, "\n"), "%s %s: one line", d.name, level)
			var entry map[string]string
			require.NoError(t, json.Unmarshal([]byte(line), &entry), "%s %s: %s", d.name, level, line)
			assert.True(t, severities[entry["severity"]], "%s: %s is written as %q", d.name, level, entry["severity"])
			assert.Equal(t, `said "hi" \ there`, entry["message"])
			assert.Contains(t, entry["exception"], "\tat org.wso2.Foo.bar")
		}
	}
	// WSO2's pattern fails the same check: the change is what makes severity readable.
	line := render("[%d{DEFAULT}] %5p - %c{1} %m%n", "WARN", "x", "main", "m", "")
	assert.Error(t, json.Unmarshal([]byte(line), &map[string]string{}))
}

// Only the layouts policy.go names may change: the same change to a file appender's layout is
// refused.
func TestOnlyTheConsoleLayoutChanges(t *testing.T) {
	in := readInput(t, dists[0])
	p := "appender.CARBON_LOGFILE.layout.pattern = "
	i := strings.Index(in.Body, p)
	require.Positive(t, i)
	end := i + strings.Index(in.Body[i:], "\n")
	changed := in.Body[:i] + p + "%m%n" + in.Body[end:]
	assert.ErrorContains(t, sameLogging(in.Body, changed), "appender.CARBON_LOGFILE.layout.pattern")
	console := strings.Replace(in.Body, "appender.CARBON_CONSOLE.layout.pattern = [%d{DEFAULT}] %5p - %c{1} %m%n", "appender.CARBON_CONSOLE.layout.pattern = %m%n", 1)
	assert.NoError(t, sameLogging(in.Body, console))
}
