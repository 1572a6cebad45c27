package fidelity

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Probe is a Kubernetes probe as WSO2's Helm chart defines it.
type Probe struct {
	Type    string   `json:"type"` // exec, httpGet, tcpSocket
	Command []string `json:"command,omitempty"`
	Path    string   `json:"path,omitempty"`
	Port    int      `json:"port"`
	Scheme  string   `json:"scheme,omitempty"`
}

// Source names where a fact was read.
type Source struct {
	Repo   string `json:"repo"`
	Ref    string `json:"ref"`
	Commit string `json:"commit"`
	Path   string `json:"path"`
	Note   string `json:"note,omitempty"`
}

// Facts are what one published image (and WSO2's Helm chart for it) expects.
type Facts struct {
	Image          string `json:"image"`
	Product        string `json:"product"` // all-in-one or universal-gw
	OS             string `json:"os"`
	ExposedPorts   []int  `json:"exposedPorts"`
	User           string `json:"user"`
	UID            int64  `json:"uid"`
	Group          string `json:"group"`
	GID            int64  `json:"gid"`
	UserHome       string `json:"userHome"`
	ServerHome     string `json:"serverHome"`
	StartScript    string `json:"startScript"`
	Entrypoint     string `json:"entrypoint"`
	ConfigVolume   string `json:"configVolume"`
	ArtifactVolume string `json:"artifactVolume"`
	JDBCDriverDirs struct {
		Lib     string `json:"lib"`
		Dropins string `json:"dropins"`
		Note    string `json:"note"`
	} `json:"jdbcDriverDirs"`
	Netcat string `json:"netcat"`
	Helm   struct {
		Chart           string         `json:"chart"`
		ContainerPorts  []int          `json:"containerPorts"`
		StartupProbe    Probe          `json:"startupProbe"`
		LivenessProbe   Probe          `json:"livenessProbe"`
		ReadinessProbe  Probe          `json:"readinessProbe"`
		SecurityContext map[string]any `json:"securityContext"`
		TomlMount       string         `json:"deploymentTomlMount"`
	} `json:"helm"`
	Sources map[string]Source `json:"sources"`
}

type imagesDoc struct {
	Version string           `json:"version"`
	Images  map[string]Facts `json:"images"`
}

// LoadImages reads images.json of a version: facts per image, keyed by "name:tag".
func LoadImages(version string) (map[string]Facts, error) {
	b, err := os.ReadFile(filepath.Join(DataDir(version), "images.json"))
	if err != nil {
		return nil, err
	}
	var doc imagesDoc
	if err := json.Unmarshal(b, &doc); err != nil {
		return nil, err
	}
	return doc.Images, nil
}

// ImageFacts returns the facts of an image reference such as "wso2/wso2am:4.7.0",
// "docker.io/wso2/wso2am-universal-gw:4.7.0-alpine" or "wso2am:4.7.0-rocky". The version is
// the tag up to its first "-"; a digest suffix is ignored.
func ImageFacts(image string) (Facts, bool) {
	ref := image
	if i := strings.Index(ref, "@"); i >= 0 {
		ref = ref[:i]
	}
	name := ref[strings.LastIndex(ref, "/")+1:]
	i := strings.LastIndex(name, ":")
	if i < 0 {
		return Facts{}, false
	}
	version := strings.SplitN(name[i+1:], "-", 2)[0]
	imgs, err := LoadImages(version)
	if err != nil {
		return Facts{}, false
	}
	f, ok := imgs[name]
	return f, ok
}

// ServesPort reports whether the server in the image listens on a port by default: a port
// the Dockerfile EXPOSEs or WSO2's chart declares as a container port.
func (f Facts) ServesPort(port int) bool {
	for _, p := range append(append([]int{}, f.ExposedPorts...), f.Helm.ContainerPorts...) {
		if p == port {
			return true
		}
	}
	return false
}

// CheckPorts returns a problem for each port the image does not serve.
func (f Facts) CheckPorts(ports ...int) []string {
	var out []string
	for _, p := range ports {
		if !f.ServesPort(p) {
			out = append(out, fmt.Sprintf("port %d: %s neither EXPOSEs it nor does WSO2's chart declare it (known: %v)", p, f.Image, f.knownPorts()))
		}
	}
	return out
}

func (f Facts) knownPorts() []int {
	seen := map[int]bool{}
	var out []int
	for _, p := range append(append([]int{}, f.ExposedPorts...), f.Helm.ContainerPorts...) {
		if !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	sort.Ints(out)
	return out
}

// CheckHTTPProbe compares an HTTP probe (kind "liveness" or "readiness") with WSO2's chart:
// the same path, port and scheme (an empty scheme means HTTP).
func (f Facts) CheckHTTPProbe(kind, path string, port int, scheme string) []string {
	var want Probe
	switch kind {
	case "liveness":
		want = f.Helm.LivenessProbe
	case "readiness":
		want = f.Helm.ReadinessProbe
	default:
		return []string{"unknown probe kind " + kind}
	}
	if scheme == "" {
		scheme = "HTTP"
	}
	ws := want.Scheme
	if ws == "" {
		ws = "HTTP"
	}
	var out []string
	if path != want.Path || port != want.Port || !strings.EqualFold(scheme, ws) {
		out = append(out, fmt.Sprintf("%s probe %s %s:%d, WSO2's chart uses %s %s:%d", kind, scheme, path, port, ws, want.Path, want.Port))
	}
	return out
}

// CheckExecProbe flags an exec probe that needs a command the image lacks (nc in the ubuntu and
// alpine images, which purge it after unpacking).
func (f Facts) CheckExecProbe(command []string) []string {
	joined := strings.Join(command, " ")
	if (strings.HasPrefix(joined, "nc ") || strings.Contains(joined, " nc ") || strings.Contains(joined, "/nc ")) && !strings.Contains(f.Netcat, "NOT removed") {
		return []string{fmt.Sprintf("exec probe %q uses nc, which %s does not have: %s", joined, f.Image, f.Netcat)}
	}
	return nil
}

// CheckUser compares a pod's runAsUser/runAsGroup with the image's user.
func (f Facts) CheckUser(uid, gid int64) []string {
	var out []string
	if uid != f.UID {
		out = append(out, fmt.Sprintf("runAsUser %d, image user %s is %d", uid, f.User, f.UID))
	}
	if gid != f.GID {
		out = append(out, fmt.Sprintf("runAsGroup %d, image group %s is %d", gid, f.Group, f.GID))
	}
	return out
}

// CheckPathUnderHome flags a path (a volume mount, a deployment.toml mount) that is not where
// the image expects it: under the server home or the config/artifact volumes.
func (f Facts) CheckPathUnderHome(p string) []string {
	for _, root := range []string{f.ServerHome, f.ConfigVolume, f.ArtifactVolume} {
		if p == root || strings.HasPrefix(p, root+"/") {
			return nil
		}
	}
	return []string{fmt.Sprintf("%s is under neither the server home %s nor %s / %s", p, f.ServerHome, f.ConfigVolume, f.ArtifactVolume)}
}

// IsJDBCDriverDir reports whether a directory is one where the server picks up a JDBC driver.
func (f Facts) IsJDBCDriverDir(dir string) bool {
	dir = strings.TrimSuffix(dir, "/")
	for _, base := range []string{f.ServerHome, f.ConfigVolume, f.ArtifactVolume} {
		for _, sub := range []string{"/repository/components/lib", "/repository/components/dropins"} {
			if dir == base+sub {
				return true
			}
		}
	}
	return false
}
