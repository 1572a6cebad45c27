package main

import (
	"fmt"
	"os"
	"path"
	"strings"

	"github.com/wso2-k8s/apim-gke/tests/fidelity"
)

// startScripts are the scripts the distributions' images run (wso2/docker-apim's
// docker-entrypoint.sh of the apim and apim-universal-gw images).
var startScripts = map[string]string{"all-in-one-apim": "api-manager.sh", "gateway": "gateway.sh"}

// writeLogsFile writes the file appenders of the distribution's log4j2.properties and the heap
// dump settings of its start script, for the logs volume check of tests/fidelity.
func writeLogsFile(out string, product checkout, module, dist, sources string) error {
	l4j := product.file(path.Join(module, "src/main/conf/log4j2.properties"))
	b, err := os.ReadFile(l4j.Abs)
	if err != nil {
		return err
	}
	apps, err := fidelity.ParseLog4j2(string(b))
	if err != nil {
		return fmt.Errorf("%s: %w", l4j.Path, err)
	}
	lf := &fidelity.LogFacts{Appenders: apps}
	var scriptNote string
	if name, ok := startScripts[dist]; ok {
		sc := product.file(path.Join(module, "src/main/startup-scripts", name))
		sb, err := os.ReadFile(sc.Abs)
		if err != nil {
			return err
		}
		lf.HeapDumpPath, lf.DefaultXmxMB = fidelity.StartScriptFacts(string(sb))
		scriptNote = sc.Repo + ":" + sc.Path
	}
	var h strings.Builder
	fmt.Fprintf(&h, "# Log files and heap dump of WSO2 API Manager distribution %q, derived by tools/wso2keys.\n", dist)
	h.WriteString(sources)
	fmt.Fprintf(&h, "#\n# log4j2.properties: %s:%s (the distribution's repository/conf/log4j2.properties, per its bin.xml)\n", l4j.Repo, l4j.Path)
	if scriptNote != "" {
		fmt.Fprintf(&h, "# Start script: %s (run by the image's docker-entrypoint.sh)\n", scriptNote)
	}
	h.WriteString(`#
# appender<TAB>name<TAB>type<TAB>fileName<TAB>filePattern<TAB>size trigger (bytes, 0 = none)<TAB>time trigger<TAB>strategy max<TAB>fileIndex<TAB>Delete IfAccumulatedFileSize (bytes, 0 = none)
#   file appenders of the "appenders" list only; sizes in bytes, log4j2 units (1KB = 1024)
# heapdump<TAB>-XX:HeapDumpPath<TAB>-Xmx (MB) the script uses when JVM_MEM_OPTS is unset
`)
	return os.WriteFile(out, []byte(h.String()+fidelity.FormatLogFacts(lf)), 0o644)
}
