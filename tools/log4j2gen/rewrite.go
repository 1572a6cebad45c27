package main

import (
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/wso2-k8s/apim-gke/tests/fidelity"
)

// logsDir is where WSO2's appenders write, under the server home.
const logsDir = "repository/logs"

// dateRe is a date conversion of a filePattern, with the "-%i" that follows it when there is
// one: both become the plain counter, so "x-%d{MM-dd-yyyy}-%i.log" and "x-%d{MM-dd-yyyy}.log"
// turn into "x-%i.log".
var dateRe = regexp.MustCompile(`%d(\{[^}]*\})?(-%i)?`)

// sizeOnlyPattern is a filePattern without its date, numbered by %i.
func sizeOnlyPattern(p string) (string, error) {
	out := dateRe.ReplaceAllString(p, "%i")
	if !strings.Contains(out, "%i") {
		// No date and no counter: number the rolled files before the extension.
		dir, base := out[:strings.LastIndex(out, "/")+1], out[strings.LastIndex(out, "/")+1:]
		if i := strings.Index(base, "."); i > 0 {
			base = base[:i] + "-%i" + base[i:]
		} else {
			base += "-%i"
		}
		out = dir + base
	}
	if strings.Count(out, "%i") != 1 || strings.Contains(out, "%d") {
		return "", fmt.Errorf("filePattern %q: cannot make it size-only (got %q)", p, out)
	}
	return out, nil
}

// plan is what changes in one appender's lines.
type plan struct {
	id, name    string
	pol         policy
	pattern     string          // the new filePattern ("" = unchanged)
	dropSubs    map[string]bool // time-based triggering policies, dropped
	sizeSub     string          // the SizeBasedTriggeringPolicy's sub-id, "" = none yet
	hasPolicies bool            // a policies.type line exists
	hasSize     bool            // the size policy has a size line
	hasMax      bool
	hasStrategy bool
	before      fidelity.Appender
}

func (p plan) changes() bool { return p.pol.size != "" }

// lineKey is the property key of a line, "" for comments, blank and continued lines.
func lineKey(line string) string {
	l := strings.TrimLeft(line, " \t\f")
	if l == "" || l[0] == '#' || l[0] == '!' {
		return ""
	}
	if i := strings.IndexAny(l, "=:"); i >= 0 {
		return strings.TrimSpace(l[:i])
	}
	return strings.TrimSpace(l)
}

// appenderIDs are the live appenders ("appenders" list) in the order the list names them.
func appenderIDs(props map[string]string) []string {
	var ids []string
	for _, id := range strings.Split(props["appenders"], ",") {
		if id = strings.TrimSpace(id); id != "" && props["appender."+id+".type"] != "" {
			ids = append(ids, id)
		}
	}
	return ids
}

// plans decides, for every live file appender under repository/logs, what to change.
func plans(props map[string]string) ([]plan, error) {
	before, err := fidelity.ParseLog4j2(propsText(props))
	if err != nil {
		return nil, err
	}
	byName := map[string]fidelity.Appender{}
	for _, a := range before {
		byName[a.Name] = a
	}
	var out []plan
	var missing []string
	for _, id := range appenderIDs(props) {
		pre := "appender." + id + "."
		typ := props[pre+"type"]
		if !strings.Contains(typ, "File") {
			continue
		}
		name := props[pre+"name"]
		if name == "" {
			name = id
		}
		a := byName[name]
		if !a.InDir(logsDir) {
			continue
		}
		if !strings.HasPrefix(typ, "Rolling") {
			return nil, fmt.Errorf("appender %s is a %s: it cannot roll; make it a RollingFile in tools/log4j2gen", id, typ)
		}
		pol, ok := policies[name]
		if !ok {
			missing = append(missing, name)
			continue
		}
		p := plan{id: id, name: name, pol: pol, dropSubs: map[string]bool{}, before: a}
		for k, v := range props {
			if !strings.HasPrefix(k, pre) {
				continue
			}
			rest := strings.TrimPrefix(k, pre)
			switch {
			case rest == "policies.type":
				p.hasPolicies = true
			case strings.HasPrefix(rest, "policies.") && strings.HasSuffix(rest, ".type"):
				sub := strings.TrimSuffix(strings.TrimPrefix(rest, "policies."), ".type")
				switch v {
				case "TimeBasedTriggeringPolicy", "CronTriggeringPolicy":
					p.dropSubs[sub] = true
				case "SizeBasedTriggeringPolicy":
					p.sizeSub = sub
				}
			case rest == "strategy.type":
				p.hasStrategy = true
			case rest == "strategy.max":
				p.hasMax = true
			case rest == "strategy.fileIndex" && v == "nomax":
				return nil, fmt.Errorf("appender %s: strategy.fileIndex = nomax keeps every file; tools/log4j2gen does not rewrite it", id)
			}
		}
		if p.sizeSub != "" {
			_, p.hasSize = props[pre+"policies."+p.sizeSub+".size"]
		} else if _, taken := props[pre+"policies.size.type"]; taken {
			return nil, fmt.Errorf("appender %s: policies.size is not a SizeBasedTriggeringPolicy", id)
		}
		if pol.size != "" {
			if p.pattern, err = sizeOnlyPattern(props[pre+"filePattern"]); err != nil {
				return nil, fmt.Errorf("appender %s: %w", id, err)
			}
		}
		out = append(out, p)
	}
	if len(missing) > 0 {
		sort.Strings(missing)
		return nil, fmt.Errorf("no rollover policy for %s in tools/log4j2gen/policy.go: every file appender under %s needs one", strings.Join(missing, ", "), logsDir)
	}
	return out, nil
}

// propsText writes a property map back as text, for fidelity.ParseLog4j2.
func propsText(props map[string]string) string {
	var sb strings.Builder
	for k, v := range props {
		sb.WriteString(k + " = " + v + "\n")
	}
	return sb.String()
}

// rewrite turns WSO2's log4j2.properties into the bounded one, line by line, so that a diff
// against WSO2's file shows only the rollover policies. Each appender it changes gets a note,
// and each line it replaces or drops stays as a "#- " comment above its replacement.
func rewrite(body string) (string, []plan, error) {
	if strings.Contains(body, "\\\n") {
		return "", nil, fmt.Errorf("continuation lines are not supported by tools/log4j2gen")
	}
	props := fidelity.ParseProperties(body)
	ps, err := plans(props)
	if err != nil {
		return "", nil, err
	}
	lines := strings.Split(strings.TrimSuffix(body, "\n"), "\n")
	owner := func(key string) *plan {
		for i := range ps {
			if ps[i].changes() && strings.HasPrefix(key, "appender."+ps[i].id+".") {
				return &ps[i]
			}
		}
		return nil
	}
	// Where lines are added: after the last policies line (or the appender's last line when it
	// has none), after the size policy's type line, after the last strategy line.
	first, lastPol, lastStrat, last, sizeType := map[string]int{}, map[string]int{}, map[string]int{}, map[string]int{}, map[string]int{}
	for i, l := range lines {
		k := lineKey(l)
		p := owner(k)
		if p == nil {
			continue
		}
		rest := strings.TrimPrefix(k, "appender."+p.id+".")
		if _, ok := first[p.id]; !ok {
			first[p.id] = i
		}
		last[p.id] = i
		if strings.HasPrefix(rest, "policies.") {
			lastPol[p.id] = i
		}
		if strings.HasPrefix(rest, "strategy.") {
			lastStrat[p.id] = i
		}
		if p.sizeSub != "" && rest == "policies."+p.sizeSub+".type" {
			sizeType[p.id] = i
		}
	}
	after := map[int][]string{}
	for _, p := range ps {
		if !p.changes() {
			continue
		}
		pre := "appender." + p.id + "."
		switch {
		case p.sizeSub == "":
			at, ok := lastPol[p.id]
			if !ok {
				at = last[p.id]
			}
			var add []string
			if !p.hasPolicies {
				add = append(add, pre+"policies.type = Policies")
			}
			add = append(add, pre+"policies.size.type = SizeBasedTriggeringPolicy", pre+"policies.size.size = "+p.pol.size)
			after[at] = append(after[at], add...)
		case !p.hasSize:
			at := sizeType[p.id]
			after[at] = append(after[at], pre+"policies."+p.sizeSub+".size = "+p.pol.size)
		}
		if !p.hasMax {
			at, ok := lastStrat[p.id]
			if !ok {
				at = last[p.id]
			}
			var add []string
			if !p.hasStrategy {
				add = append(add, pre+"strategy.type = DefaultRolloverStrategy")
			}
			after[at] = append(after[at], append(add, pre+"strategy.max = "+strconv.Itoa(p.pol.max))...)
		}
	}

	var out []string
	replace := func(line, key, value string) {
		if strings.TrimSpace(line[strings.IndexAny(line, "=:")+1:]) == value {
			out = append(out, line)
			return
		}
		out = append(out, "#- "+line, key+" = "+value)
	}
	consoles, err := consoleLayoutIDs(props)
	if err != nil {
		return "", nil, err
	}
	for i, l := range lines {
		k := lineKey(l)
		if id, ok := consoles[k]; ok {
			c := consoleLayouts[id]
			out = append(out, wrap(fmt.Sprintf("apim-gke: %s writes %s.", id, c.why), "# ")...)
			out = append(out, "#- "+l, k+" = "+c.pattern, "appender."+id+".layout.alwaysWriteExceptions = false")
			continue
		}
		if p := owner(k); p != nil {
			if first[p.id] == i {
				out = append(out, wrap(note(*p), "# ")...)
			}
			rest := strings.TrimPrefix(k, "appender."+p.id+".")
			sub := ""
			if strings.HasPrefix(rest, "policies.") {
				if s := strings.SplitN(rest, ".", 3); len(s) == 3 {
					sub = s[1]
				}
			}
			switch {
			case rest == "filePattern":
				replace(l, k, p.pattern)
			case p.dropSubs[sub]:
				out = append(out, "#- "+l)
			case p.sizeSub != "" && rest == "policies."+p.sizeSub+".size":
				replace(l, k, p.pol.size)
			case rest == "strategy.max":
				replace(l, k, strconv.Itoa(p.pol.max))
			default:
				out = append(out, l)
			}
		} else {
			out = append(out, l)
		}
		out = append(out, after[i]...)
	}
	result := strings.Join(out, "\n") + "\n"
	if err := checkBounded(result); err != nil {
		return "", nil, err
	}
	if err := sameLogging(body, result); err != nil {
		return "", nil, err
	}
	return result, ps, nil
}

// consoleLayoutIDs maps the layout.pattern key of every appender consoleLayouts names to its
// id, and fails when one with a pattern is not a Console appender with a PatternLayout.
func consoleLayoutIDs(props map[string]string) (map[string]string, error) {
	out := map[string]string{}
	for id := range consoleLayouts {
		pre := "appender." + id + "."
		if _, ok := props[pre+"layout.pattern"]; !ok {
			continue
		}
		if props[pre+"type"] != "Console" || props[pre+"layout.type"] != "PatternLayout" {
			return nil, fmt.Errorf("tools/log4j2gen/policy.go has a console layout for %s, which is not a Console appender with a PatternLayout", id)
		}
		out[pre+"layout.pattern"] = id
	}
	return out, nil
}

// note says, above an appender, what the project changed and why.
func note(p plan) string {
	a := p.before
	var was string
	switch {
	case a.TimeBased && a.SizeBytes > 0:
		was = fmt.Sprintf("daily and at %s, up to %d files a day, older days never deleted", fidelity.Human(a.SizeBytes), a.Max)
	case a.TimeBased:
		was = "daily only: one day's file has no size limit, older days never deleted"
	case a.SizeBytes == 0:
		was = "never rolled: the file has no size limit"
	default:
		was = fmt.Sprintf("at %s, %d files", fidelity.Human(a.SizeBytes), a.Max)
	}
	size, _ := fidelity.ParseSize(p.pol.size)
	return fmt.Sprintf("apim-gke: %s rolls at %s only and keeps %d rolled files, at most %s (WSO2 4.7.0: %s). Why: %s.",
		p.name, fidelity.Human(size), p.pol.max, fidelity.Human(int64(p.pol.max+1)*size), was, p.pol.why)
}

// wrap breaks text into comment lines of at most 99 characters.
func wrap(text, prefix string) []string {
	var out []string
	line := prefix
	for _, w := range strings.Fields(text) {
		if len(line) > len(prefix) && len(line)+1+len(w) > 99 {
			out = append(out, line)
			line = prefix
		}
		if len(line) > len(prefix) {
			line += " "
		}
		line += w
	}
	return append(out, line)
}

// checkBounded fails unless every live file appender under repository/logs has a bound in
// tests/fidelity's model (the model the logs volume check uses).
func checkBounded(text string) error {
	apps, err := fidelity.ParseLog4j2(text)
	if err != nil {
		return err
	}
	var bad []string
	for _, a := range apps {
		if b := a.Bound(); a.InDir(logsDir) && b.Unbounded {
			bad = append(bad, a.Name+": "+b.Why)
		}
	}
	if len(bad) > 0 {
		return fmt.Errorf("still unbounded: %s", strings.Join(bad, "; "))
	}
	return nil
}

// sameLogging fails if the rewrite touched anything but the rollover of file appenders
// (filePattern, policies.* and strategy.* of an appender) and the layout of the console
// appenders consoleLayouts names. Appender names, file names, the file appenders' layouts,
// filters, the appenders and loggers lists, loggers and levels must be WSO2's.
func sameLogging(wso2, ours string) error {
	a, b := fidelity.ParseProperties(wso2), fidelity.ParseProperties(ours)
	var consoles []string
	for id := range consoleLayouts {
		consoles = append(consoles, regexp.QuoteMeta(id))
	}
	sort.Strings(consoles)
	rollover := regexp.MustCompile(`^appender\.[^.]+\.(filePattern|policies\..+|strategy\..+)$|^appender\.(` +
		strings.Join(consoles, "|") + `)\.layout\.(pattern|alwaysWriteExceptions)$`)
	var bad []string
	for k, v := range a {
		if w, ok := b[k]; (!ok || w != v) && !rollover.MatchString(k) {
			bad = append(bad, fmt.Sprintf("%s: WSO2 %q, ours %q", k, v, w))
		}
	}
	for k, v := range b {
		if _, ok := a[k]; !ok && !rollover.MatchString(k) {
			bad = append(bad, fmt.Sprintf("%s: added %q", k, v))
		}
	}
	if len(bad) > 0 {
		sort.Strings(bad)
		return fmt.Errorf("the rewrite changed more than rollover policies: %s", strings.Join(bad, "; "))
	}
	return nil
}
