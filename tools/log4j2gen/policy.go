package main

// policy is how one file appender under repository/logs rolls in the project's
// log4j2.properties: by size only, keeping max rolled files beside the active one, so it can
// hold at most (max + 1) × size. An empty size keeps WSO2's own rollover, which must already
// be bounded.
type policy struct {
	size string // log4j2 size, e.g. "10MB" (log4j2's MB is 1024 × 1024 bytes)
	max  int    // DefaultRolloverStrategy max: rolled files kept
	why  string // one line for the generated file
}

// small is for the logs people read with kubectl exec when something went wrong: 10MB is
// WSO2's own size for them, and three rolled files keep the last 40 MiB, enough to see what led
// to a failure. Whatever Carbon logs at INFO or above also reaches stdout (root logger's
// CARBON_CONSOLE), where the cluster's log collection keeps history, so the files need not.
var small = policy{size: "10MB", max: 3, why: "10MB as WSO2 has it, 3 rolled files: the recent past for kubectl exec; history belongs to the cluster's log collection"}

// policies name every file appender of WSO2 4.7.0's two distributions. An appender missing
// here stops the generator: a new WSO2 log file needs a decision, not a silent default.
var policies = map[string]policy{
	// The analytics shipper (Fluent Bit's tail input) follows apim_metrics.log by inode: after
	// a rollover it finishes the renamed file within Rotate_Wait (5 s by default) and picks the
	// new apim_metrics.log up at once (inotify) or within Refresh_Interval (5 s in
	// components/analytics). Rollovers must therefore be rare against those 5 s windows, even
	// at the most a gateway can write. An ELK event line is about 1 to 1.5 KB (a JSON object of
	// some 30 fields; estimate), so a gateway at ~3,000 requests/s, the high end of a 3-CPU pod,
	// writes ~4 MB/s: at 256MB a file rolls about once a minute at most, a dozen times the
	// shipper's windows. The shipper never reads rolled files, so two are kept only for a person
	// checking what was shipped.
	"APIM_METRICS_APPENDER": {size: "256MB", max: 2, why: "read by the analytics shipper: at ~4 MB/s, a busy gateway's ELK events, 256MB rolls once a minute at most, far apart from Fluent Bit's 5 s rotate and refresh windows; rolled files are not shipped, 2 kept for a person"},
	// Synapse's HTTP access log: one short line a request, written only when access logging is
	// switched on; 64MB files keep minutes of a busy gateway, which is what kubectl exec is for.
	"APIM_GATEWAY_ACCESS_APPENDER": {size: "64MB", max: 2, why: "one line a request when access logging is on: the last minutes of a busy gateway; ship it elsewhere for history"},
	// wso2carbon.log is the server's main log: keep a little more of it than of the others.
	"CARBON_LOGFILE":         {size: "10MB", max: 10, why: "the server's main log, 10MB as WSO2 has it, 10 rolled files; the same events reach stdout (CARBON_CONSOLE)"},
	"AUDIT_LOGFILE":          small,
	"API_LOGFILE":            small,
	"ATOMIKOS_LOGFILE":       small,
	"CARBON_TRACE_LOGFILE":   small,
	"CORRELATION":            small,
	"ERROR_LOGFILE":          small,
	"OPEN_TRACING":           small,
	"TRACE_APPENDER":         small,
	"BOTDATA_APPENDER":       small,
	"APIM_GOV_AUDIT_LOGFILE": small,
	// Already size-only and small in WSO2's file (1000KB, 10 files).
	"SERVICE_APPENDER": {why: "WSO2's own size-only rollover, already bounded"},
}

// layout is a console appender's PatternLayout in the project's log4j2.properties.
type layout struct {
	pattern string // the PatternLayout pattern
	why     string // one line for the generated file
}

// consoleLayouts replace the layout of the console appenders they name (by appender id). On
// GKE, the logging agent sends every line a container writes to stdout to Cloud Logging; a
// line that is one JSON object becomes a structured entry whose "severity" field is the
// entry's severity and "message" its text (Google, "Structured logging": special JSON
// fields), where WSO2's plain pattern leaves every line at the default severity. log4j2's
// level names map to Cloud Logging's (WARN to WARNING, FATAL to CRITICAL, TRACE to DEBUG);
// %enc{...}{JSON} escapes quotes, backslashes and line breaks, so a message or a stack trace
// stays inside its one line. The exception goes in a field of its own and nowhere else
// (alwaysWriteExceptions false): PatternLayout would otherwise append it after the object.
var consoleLayouts = map[string]layout{
	"CARBON_CONSOLE": {
		pattern: `{"severity":"%level{WARN=WARNING, FATAL=CRITICAL, TRACE=DEBUG}","time":"%d{yyyy-MM-dd'T'HH:mm:ss.SSS'Z'}{UTC}",` +
			`"logger":"%enc{%c}{JSON}","thread":"%enc{%t}{JSON}","message":"%enc{%m}{JSON}","exception":"%enc{%ex}{JSON}"}%n`,
		why: "one JSON object a line, which Cloud Logging reads with its severity; WSO2's own pattern, [%d{DEFAULT}] %5p - %c{1} %m%n, leaves every line at the default severity",
	},
}
