package fidelity

import (
	"strings"
	"testing"
)

const smallRollover = `
appenders = CARBON_CONSOLE, CARBON_LOGFILE, HTTP_ACCESS, DAILY
appender.CARBON_CONSOLE.type = Console
appender.CARBON_CONSOLE.name = CARBON_CONSOLE
appender.CARBON_LOGFILE.type = RollingFile
appender.CARBON_LOGFILE.name = CARBON_LOGFILE
appender.CARBON_LOGFILE.fileName = ${sys:carbon.home}/repository/logs/wso2carbon.log
appender.CARBON_LOGFILE.filePattern = ${sys:carbon.home}/repository/logs/wso2carbon-%i.log
appender.CARBON_LOGFILE.policies.type = Policies
appender.CARBON_LOGFILE.policies.size.type = SizeBasedTriggeringPolicy
appender.CARBON_LOGFILE.policies.size.size = 10MB
appender.CARBON_LOGFILE.strategy.type = DefaultRolloverStrategy
appender.CARBON_LOGFILE.strategy.max = 5
appender.HTTP_ACCESS.type = RollingFile
appender.HTTP_ACCESS.fileName = ${sys:carbon.home}/repository/logs/http_access.log
appender.HTTP_ACCESS.filePattern = ${sys:carbon.home}/repository/logs/http_access-%i.log
appender.HTTP_ACCESS.policies.type = Policies
appender.HTTP_ACCESS.policies.size.type = SizeBasedTriggeringPolicy
appender.HTTP_ACCESS.policies.size.size = 1000KB
appender.DAILY.type = RollingFile
appender.DAILY.fileName = ${sys:carbon.home}/repository/logs/daily.log
appender.DAILY.filePattern = ${sys:carbon.home}/repository/logs/daily-%d{yyyy-MM-dd}-%i.log.gz
appender.DAILY.policies.type = Policies
appender.DAILY.policies.time.type = TimeBasedTriggeringPolicy
appender.DAILY.policies.size.type = SizeBasedTriggeringPolicy
appender.DAILY.policies.size.size = 5MB
appender.DAILY.strategy.type = DefaultRolloverStrategy
appender.DAILY.strategy.max = 3
appender.DAILY.strategy.action.type = Delete
appender.DAILY.strategy.action.basepath = ${sys:carbon.home}/repository/logs
appender.DAILY.strategy.action.condition.type = IfAccumulatedFileSize
appender.DAILY.strategy.action.condition.exceeds = 20MB
appender.UNLISTED.type = RollingFile
appender.UNLISTED.fileName = ${sys:carbon.home}/repository/logs/unlisted.log
`

func TestParseLog4j2AndBounds(t *testing.T) {
	apps, err := ParseLog4j2(smallRollover)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]Bound{}
	for _, a := range apps {
		got[a.Name] = a.Bound()
	}
	if len(got) != 3 {
		t.Fatalf("want the 3 listed file appenders, got %v", got)
	}
	if b := got["CARBON_LOGFILE"]; b.Unbounded || b.Bytes != 6*10<<20 {
		t.Errorf("CARBON_LOGFILE: (5 + 1) × 10MB, got %+v", b)
	}
	if b := got["HTTP_ACCESS"]; b.Unbounded || b.Bytes != 8*1000<<10 {
		t.Errorf("HTTP_ACCESS: log4j2's default max is 7: (7 + 1) × 1000KB, got %+v", b)
	}
	if b := got["DAILY"]; b.Unbounded || b.Bytes != 25<<20 {
		t.Errorf("DAILY: the Delete action bounds it: 20MB + 5MB, got %+v", b)
	}
}

func TestWSO2DefaultLog4j2IsUnbounded(t *testing.T) {
	for _, d := range []string{AllInOne, UniversalGW} {
		lf, err := LoadLogFacts("4.7.0", d)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(strings.Join(lf.Header, "\n"), "wso2/product-apim v4.7.0 53b83f28bf0d6222fd6aa67fa344ae3932d42476") {
			t.Errorf("%s: provenance missing", d)
		}
		n := NeedForLogs("WSO2's default", lf.Appenders, "repository/logs", true, lf.HeapDumpPath, lf.DefaultXmxMB)
		byName := map[string]Bound{}
		for _, b := range append(n.Bounded, n.Unbounded...) {
			byName[b.Appender.Name] = b
		}
		// the two files issue 21 names: 1000MB a file, 10 files per day, older days kept
		for _, name := range []string{"APIM_METRICS_APPENDER", "APIM_GATEWAY_ACCESS_APPENDER"} {
			b := byName[name]
			if !b.Unbounded || b.PerDay != 10*1000<<20 {
				t.Errorf("%s %s: %+v", d, name, b)
			}
		}
		if b := byName["ATOMIKOS_LOGFILE"]; !b.Unbounded || !strings.Contains(b.Why, "no SizeBasedTriggeringPolicy") {
			t.Errorf("%s tm.out rolls by time only: %+v", d, b)
		}
		if b := byName["SERVICE_APPENDER"]; b.Unbounded || b.Bytes != 11*1000<<10 {
			t.Errorf("%s wso2-apigw-service.log rolls by size only: %+v", d, b)
		}
		if lf.HeapDumpPath != "$CARBON_HOME/repository/logs/heap-dump.hprof" || lf.DefaultXmxMB != 1024 {
			t.Errorf("%s heap dump: %q %d", d, lf.HeapDumpPath, lf.DefaultXmxMB)
		}
		if p := n.Problem(2 << 30); !strings.Contains(p, "APIM_METRICS_APPENDER") || !strings.Contains(p, "heap dump") {
			t.Errorf("%s: %s", d, p)
		}
	}
}

func TestJVMHeapDump(t *testing.T) {
	in, p, x := JVMHeapDump("$CARBON_HOME/repository/logs/heap-dump.hprof", 1024, "-Xms2048m -Xmx2048m", "", "repository/logs")
	if !in || x != 2048 || p == "" {
		t.Errorf("JVM_MEM_OPTS sets the heap: %v %s %d", in, p, x)
	}
	if in, _, _ := JVMHeapDump("$CARBON_HOME/repository/logs/heap-dump.hprof", 1024, "", "-XX:HeapDumpPath=/tmp/dumps/x.hprof", "repository/logs"); in {
		t.Error("JAVA_OPTS comes after the script's flag and wins")
	}
	if in, _, _ := JVMHeapDump("$CARBON_HOME/repository/logs/heap-dump.hprof", 1024, "", "-XX:-HeapDumpOnOutOfMemoryError", "repository/logs"); in {
		t.Error("dumps switched off")
	}
}

func TestParseQuantity(t *testing.T) {
	for q, want := range map[string]int64{"2Gi": 2 << 30, "512Mi": 512 << 20, "1G": 1e9, "100": 100} {
		if got, err := ParseQuantity(q); err != nil || got != want {
			t.Errorf("%s: %d %v", q, got, err)
		}
	}
	if _, err := ParseQuantity("2 GB"); err == nil {
		t.Error("not a quantity")
	}
}
