package fidelity

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// Appender is one file appender of a log4j2.properties: what it writes and how log4j2 rolls
// and deletes its files.
type Appender struct {
	Name        string
	Type        string // RollingFile, RollingRandomAccessFile, File
	FileName    string
	FilePattern string
	SizeBytes   int64 // SizeBasedTriggeringPolicy size; 0 = none
	TimeBased   bool  // TimeBasedTriggeringPolicy (or CronTriggeringPolicy) present
	Max         int   // DefaultRolloverStrategy max (log4j2's default: 7)
	FileIndex   string
	// DeleteAccumulatedBytes is the IfAccumulatedFileSize exceeds of a Delete action of the
	// strategy; 0 = none.
	DeleteAccumulatedBytes int64
}

// LogFacts are the log files and heap dump a WSO2 distribution writes under repository/logs.
type LogFacts struct {
	Header       []string
	Appenders    []Appender
	HeapDumpPath string // -XX:HeapDumpPath of the start script ("" = none)
	DefaultXmxMB int    // the start script's -Xmx when JVM_MEM_OPTS is not set
}

// Bound is how much one appender can keep on disk.
type Bound struct {
	Appender  Appender
	Bytes     int64 // the bound, when Unbounded is false
	Unbounded bool
	Why       string // how the bound follows from the configuration, or why there is none
	PerDay    int64  // for date-rolled appenders: what one day of uptime can add (0 = unknown)
}

var (
	sizeRe    = regexp.MustCompile(`(?i)^\s*([0-9]+(?:\.[0-9]+)?)\s*(b|kb|mb|gb|tb)?\s*$`)
	dateToken = regexp.MustCompile(`%d\{[^}]*\}|%d`)
)

// ParseSize reads a log4j2 size ("10MB", "1000KB", "1 GB"): log4j2's units are powers of 1024.
func ParseSize(s string) (int64, error) {
	g := sizeRe.FindStringSubmatch(s)
	if g == nil {
		return 0, fmt.Errorf("not a log4j2 size: %q", s)
	}
	f, err := strconv.ParseFloat(g[1], 64)
	if err != nil {
		return 0, err
	}
	mult := map[string]float64{"": 1, "b": 1, "kb": 1 << 10, "mb": 1 << 20, "gb": 1 << 30, "tb": 1 << 40}[strings.ToLower(g[2])]
	return int64(f * mult), nil
}

// ParseProperties reads a Java properties file (key = value, # and ! comments, backslash
// continuation lines).
func ParseProperties(src string) map[string]string {
	out := map[string]string{}
	sc := bufio.NewScanner(strings.NewReader(src))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	var cur strings.Builder
	for sc.Scan() {
		line := strings.TrimLeft(sc.Text(), " \t\f")
		if cur.Len() == 0 && (line == "" || line[0] == '#' || line[0] == '!') {
			continue
		}
		if strings.HasSuffix(line, `\`) && !strings.HasSuffix(line, `\\`) {
			cur.WriteString(strings.TrimSuffix(line, `\`))
			continue
		}
		cur.WriteString(line)
		l := cur.String()
		cur.Reset()
		i := strings.IndexAny(l, "=:")
		if i < 0 {
			out[strings.TrimSpace(l)] = ""
			continue
		}
		out[strings.TrimSpace(l[:i])] = strings.TrimSpace(l[i+1:])
	}
	return out
}

// ParseLog4j2 returns the file appenders a log4j2.properties declares. Only appenders listed
// in "appenders" (when that list exists) are live, as log4j2 2.x reads it.
func ParseLog4j2(src string) ([]Appender, error) {
	p := ParseProperties(src)
	ids := map[string]bool{}
	for k := range p {
		if strings.HasPrefix(k, "appender.") {
			if parts := strings.SplitN(k, ".", 3); len(parts) == 3 {
				ids[parts[1]] = true
			}
		}
	}
	if list, ok := p["appenders"]; ok {
		live := map[string]bool{}
		for _, id := range strings.Split(list, ",") {
			if id = strings.TrimSpace(id); id != "" && ids[id] {
				live[id] = true
			}
		}
		ids = live
	}
	var out []Appender
	var names []string
	for id := range ids {
		names = append(names, id)
	}
	sort.Strings(names)
	for _, id := range names {
		get := func(k string) string { return p["appender."+id+"."+k] }
		typ := get("type")
		if !strings.Contains(typ, "File") {
			continue // Console, PaxOsgi, Syslog, ...
		}
		a := Appender{Name: id, Type: typ, FileName: get("fileName"), FilePattern: get("filePattern"), Max: 7, FileIndex: get("strategy.fileIndex")}
		if a.Name = get("name"); a.Name == "" {
			a.Name = id
		}
		for k, v := range p {
			pre := "appender." + id + "."
			if !strings.HasPrefix(k, pre) {
				continue
			}
			rest := strings.TrimPrefix(k, pre)
			switch {
			case strings.HasPrefix(rest, "policies.") && strings.HasSuffix(rest, ".type"):
				switch v {
				case "SizeBasedTriggeringPolicy":
					sk := pre + strings.TrimSuffix(rest, ".type") + ".size"
					s, ok := p[sk]
					if !ok {
						s = "10MB" // log4j2's default
					}
					n, err := ParseSize(s)
					if err != nil {
						return nil, fmt.Errorf("%s: %v", sk, err)
					}
					a.SizeBytes = n
				case "TimeBasedTriggeringPolicy", "CronTriggeringPolicy":
					a.TimeBased = true
				}
			case rest == "strategy.max":
				n, err := strconv.Atoi(v)
				if err != nil {
					return nil, fmt.Errorf("%s: %v", k, err)
				}
				a.Max = n
			case strings.HasPrefix(rest, "strategy.") && strings.HasSuffix(rest, ".exceeds"):
				n, err := ParseSize(v)
				if err != nil {
					return nil, fmt.Errorf("%s: %v", k, err)
				}
				if a.DeleteAccumulatedBytes == 0 || n < a.DeleteAccumulatedBytes {
					a.DeleteAccumulatedBytes = n
				}
			}
		}
		out = append(out, a)
	}
	return out, nil
}

// Bound works out what an appender can keep on disk, from how log4j2 2.x rolls files:
// DefaultRolloverStrategy's max limits the %i counter within one value of the date pattern,
// so an appender whose filePattern has a date keeps max files per day (one, overwritten, when
// the pattern has no %i) and never deletes older days unless a Delete action says so; without
// a size trigger the active file itself has no limit.
func (a Appender) Bound() Bound {
	b := Bound{Appender: a}
	hasDate := dateToken.MatchString(a.FilePattern)
	hasIndex := strings.Contains(a.FilePattern, "%i")
	perRoll := a.Max
	if !hasIndex {
		perRoll = 1
	}
	switch {
	case a.SizeBytes == 0:
		b.Unbounded = true
		b.Why = "no SizeBasedTriggeringPolicy: the active file " + a.FileName + " grows without limit"
	case a.DeleteAccumulatedBytes > 0:
		b.Bytes = a.DeleteAccumulatedBytes + a.SizeBytes
		b.Why = fmt.Sprintf("Delete action at %s accumulated + the active file (%s)", human(a.DeleteAccumulatedBytes), human(a.SizeBytes))
	case a.FileIndex == "nomax":
		b.Unbounded = true
		b.Why = "fileIndex=nomax keeps every rolled file"
	case hasDate:
		b.Unbounded = true
		b.PerDay = int64(perRoll) * a.SizeBytes
		b.Why = fmt.Sprintf("filePattern %s has a date: max=%d counts files per date and no Delete action removes older dates, so each day of uptime can add %d × %s",
			a.FilePattern, a.Max, perRoll, human(a.SizeBytes))
	default:
		b.Bytes = int64(perRoll+1) * a.SizeBytes
		b.Why = fmt.Sprintf("(%d rolled + 1 active) × %s", perRoll, human(a.SizeBytes))
	}
	return b
}

// human writes a byte count in the binary units Kubernetes quantities use.
func human(n int64) string {
	for _, u := range []struct {
		s string
		v int64
	}{{"Gi", 1 << 30}, {"Mi", 1 << 20}, {"Ki", 1 << 10}} {
		if n >= u.v && n%u.v == 0 {
			return fmt.Sprintf("%d%s", n/u.v, u.s)
		}
	}
	if n >= 1<<20 {
		return fmt.Sprintf("%.1fMi", float64(n)/(1<<20))
	}
	return fmt.Sprintf("%dB", n)
}

// Human writes a byte count as human does; exported for test messages.
func Human(n int64) string { return human(n) }

// InDir reports whether an appender's file lands in the server's dir (e.g. repository/logs),
// with ${sys:carbon.home} or a literal server home in front.
func (a Appender) InDir(dir string) bool {
	f := strings.ReplaceAll(a.FileName, "${sys:carbon.home}", "")
	return strings.Contains(f, "/"+strings.Trim(dir, "/")+"/")
}

// LoadLogFacts reads logs-<dist>.txt of a version (written by tools/wso2keys):
//
//	appender<TAB>name<TAB>type<TAB>fileName<TAB>filePattern<TAB>size bytes<TAB>time(true/false)<TAB>max<TAB>fileIndex<TAB>delete bytes
//	heapdump<TAB>path<TAB>default Xmx MB
func LoadLogFacts(version, dist string) (*LogFacts, error) {
	path := filepath.Join(DataDir(version), "logs-"+dist+".txt")
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	lf := &LogFacts{}
	for n, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "#") {
			lf.Header = append(lf.Header, strings.TrimPrefix(strings.TrimPrefix(line, "#"), " "))
			continue
		}
		if strings.TrimSpace(line) == "" {
			continue
		}
		p := strings.Split(line, "\t")
		bad := fmt.Errorf("%s:%d: malformed %q", path, n+1, line)
		switch p[0] {
		case "appender":
			if len(p) != 10 {
				return nil, bad
			}
			size, err1 := strconv.ParseInt(p[5], 10, 64)
			max, err2 := strconv.Atoi(p[7])
			del, err3 := strconv.ParseInt(p[9], 10, 64)
			if err1 != nil || err2 != nil || err3 != nil {
				return nil, bad
			}
			lf.Appenders = append(lf.Appenders, Appender{Name: p[1], Type: p[2], FileName: p[3], FilePattern: p[4],
				SizeBytes: size, TimeBased: p[6] == "true", Max: max, FileIndex: p[8], DeleteAccumulatedBytes: del})
		case "heapdump":
			if len(p) != 3 {
				return nil, bad
			}
			x, err := strconv.Atoi(p[2])
			if err != nil {
				return nil, bad
			}
			lf.HeapDumpPath, lf.DefaultXmxMB = p[1], x
		default:
			return nil, bad
		}
	}
	if len(lf.Appenders) == 0 {
		return nil, fmt.Errorf("%s: no appenders", path)
	}
	return lf, nil
}

// FormatLogFacts writes facts in the format LoadLogFacts reads (after a header).
func FormatLogFacts(lf *LogFacts) string {
	var sb strings.Builder
	for _, a := range lf.Appenders {
		fmt.Fprintf(&sb, "appender\t%s\t%s\t%s\t%s\t%d\t%t\t%d\t%s\t%d\n", a.Name, a.Type, a.FileName, a.FilePattern, a.SizeBytes, a.TimeBased, a.Max, a.FileIndex, a.DeleteAccumulatedBytes)
	}
	if lf.HeapDumpPath != "" {
		fmt.Fprintf(&sb, "heapdump\t%s\t%d\n", lf.HeapDumpPath, lf.DefaultXmxMB)
	}
	return sb.String()
}

var (
	heapDumpRe = regexp.MustCompile(`-XX:HeapDumpPath="?([^"\s]+)"?`)
	xmxRe      = regexp.MustCompile(`-Xmx([0-9]+)([mMgG])`)
)

// StartScriptFacts reads a WSO2 start script (bin/api-manager.sh, bin/gateway.sh) for the heap
// dump path and the default -Xmx it uses when JVM_MEM_OPTS is not set.
func StartScriptFacts(src string) (heapDumpPath string, defaultXmxMB int) {
	if g := heapDumpRe.FindStringSubmatch(src); g != nil {
		heapDumpPath = g[1]
	}
	if g := xmxRe.FindStringSubmatch(src); g != nil {
		n, _ := strconv.Atoi(g[1])
		if strings.EqualFold(g[2], "g") {
			n *= 1024
		}
		defaultXmxMB = n
	}
	return
}

// JVMHeapDump reads JVM options as the start script passes them ($JVM_MEM_OPTS, then the
// script's own -XX flags, then $JAVA_OPTS, later flags winning) and says whether an
// OutOfMemoryError heap dump is written under dir and how large the heap can be (MB).
func JVMHeapDump(scriptPath string, scriptDefaultXmx int, jvmMemOpts, javaOpts, dir string) (inDir bool, path string, xmxMB int) {
	path = scriptPath
	on := scriptPath != ""
	xmxMB = scriptDefaultXmx
	if jvmMemOpts != "" {
		if g := xmxRe.FindStringSubmatch(jvmMemOpts); g != nil {
			xmxMB, _ = strconv.Atoi(g[1])
			if strings.EqualFold(g[2], "g") {
				xmxMB *= 1024
			}
		}
	}
	for _, f := range strings.Fields(javaOpts) {
		switch {
		case f == "-XX:-HeapDumpOnOutOfMemoryError":
			on = false
		case f == "-XX:+HeapDumpOnOutOfMemoryError":
			on = true
		case strings.HasPrefix(f, "-XX:HeapDumpPath="):
			path = strings.Trim(strings.TrimPrefix(f, "-XX:HeapDumpPath="), `"`)
		case strings.HasPrefix(f, "-Xmx"):
			if g := xmxRe.FindStringSubmatch(f); g != nil {
				xmxMB, _ = strconv.Atoi(g[1])
				if strings.EqualFold(g[2], "g") {
					xmxMB *= 1024
				}
			}
		}
	}
	inDir = on && strings.Contains(path, "/"+strings.Trim(dir, "/")+"/")
	return inDir, path, xmxMB
}

// LogsNeed is what a server can keep in its logs directory.
type LogsNeed struct {
	Source       string  // where the appenders come from (WSO2's default file, or the pod's own)
	Bounded      []Bound // appenders in the directory with a bound
	Unbounded    []Bound // appenders in the directory without one
	HeapDumpPath string  // set when an OutOfMemoryError heap dump lands in the directory
	HeapDumpMB   int     // -Xmx: the largest heap dump
	Bytes        int64   // sum of the bounded appenders and the heap dump
	PerDay       int64   // what one day of uptime adds through date-rolled appenders
}

// NeedForLogs adds up what the appenders writing into dir, and a heap dump, can keep there.
func NeedForLogs(source string, apps []Appender, dir string, heapDumpInDir bool, heapDumpPath string, xmxMB int) LogsNeed {
	n := LogsNeed{Source: source}
	for _, a := range apps {
		if !a.InDir(dir) {
			continue
		}
		b := a.Bound()
		if b.Unbounded {
			n.Unbounded = append(n.Unbounded, b)
			n.PerDay += b.PerDay
			continue
		}
		n.Bounded = append(n.Bounded, b)
		n.Bytes += b.Bytes
	}
	if heapDumpInDir {
		n.HeapDumpPath, n.HeapDumpMB = heapDumpPath, xmxMB
		n.Bytes += int64(xmxMB) << 20
	}
	return n
}

// Problem says why a volume of sizeLimit bytes cannot hold what the server may keep there, or
// returns "" when it can.
func (n LogsNeed) Problem(sizeLimit int64) string {
	if len(n.Unbounded) == 0 && n.Bytes <= sizeLimit {
		return ""
	}
	var sb strings.Builder
	fmt.Fprintf(&sb, "sizeLimit %s < what %s lets the server keep there", human(sizeLimit), n.Source)
	if len(n.Unbounded) > 0 {
		fmt.Fprintf(&sb, ": %d appenders have no bound (", len(n.Unbounded))
		for i, b := range n.Unbounded {
			if i > 0 {
				sb.WriteString("; ")
			}
			fmt.Fprintf(&sb, "%s: %s", b.Appender.Name, b.Why)
		}
		fmt.Fprintf(&sb, "); date-rolled size-capped appenders alone can add %s per day of uptime", human(n.PerDay))
	}
	fmt.Fprintf(&sb, "; the bounded part needs %s", human(n.Bytes))
	if n.HeapDumpPath != "" {
		fmt.Fprintf(&sb, " (of which up to %s for the OutOfMemoryError heap dump at %s, -Xmx)", human(int64(n.HeapDumpMB)<<20), n.HeapDumpPath)
	}
	var parts []string
	for _, b := range n.Bounded {
		parts = append(parts, fmt.Sprintf("%s %s = %s", b.Appender.Name, b.Why, human(b.Bytes)))
	}
	if len(parts) > 0 {
		fmt.Fprintf(&sb, " [%s]", strings.Join(parts, "; "))
	}
	return sb.String()
}

var quantityRe = regexp.MustCompile(`^([0-9]+(?:\.[0-9]+)?)(Ki|Mi|Gi|Ti|Pi|Ei|k|M|G|T|P|E|m)?$`)

// ParseQuantity reads a Kubernetes quantity as bytes ("2Gi", "500M", "1073741824").
func ParseQuantity(q string) (int64, error) {
	g := quantityRe.FindStringSubmatch(strings.TrimSpace(q))
	if g == nil {
		return 0, fmt.Errorf("not a Kubernetes quantity: %q", q)
	}
	f, err := strconv.ParseFloat(g[1], 64)
	if err != nil {
		return 0, err
	}
	mult := map[string]float64{"": 1, "m": 1e-3, "k": 1e3, "M": 1e6, "G": 1e9, "T": 1e12, "P": 1e15, "E": 1e18,
		"Ki": 1 << 10, "Mi": 1 << 20, "Gi": 1 << 30, "Ti": 1 << 40, "Pi": 1 << 50, "Ei": 1 << 60}[g[2]]
	return int64(f * mult), nil
}
