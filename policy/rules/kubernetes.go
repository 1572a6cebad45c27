package rules

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/wso2-k8s/apim-gke/components/ingress"
)

// RolloutExemption on a Deployment's metadata exempts it from zero-downtime-rollout, with the
// reason as its value (e.g. a ReadWriteOnce volume that two pods cannot share).
const RolloutExemption = "wso2apim.io/rollout-exemption"

const (
	typeDeployment  = "kubernetes:apps/v1:Deployment"
	typeStatefulSet = "kubernetes:apps/v1:StatefulSet"
	typeJob         = "kubernetes:batch/v1:Job"
	typeCronJob     = "kubernetes:batch/v1:CronJob"
	typeService     = "kubernetes:core/v1:Service"
	typeConfigMap   = "kubernetes:core/v1:ConfigMap"
	typeSecret      = "kubernetes:core/v1:Secret"
	typeNamespace   = "kubernetes:core/v1:Namespace"
	typePVC         = "kubernetes:core/v1:PersistentVolumeClaim"
	typeHPA         = "kubernetes:autoscaling/v2:HorizontalPodAutoscaler"
)

func workloads(g Graph) []Resource {
	return append(ofType(g, typeDeployment), ofType(g, typeStatefulSet)...)
}

// podOwners are the workloads plus Jobs and CronJobs: everything whose pods take a node's
// resources.
func podOwners(g Graph) []Resource {
	return append(append(workloads(g), ofType(g, typeJob)...), ofType(g, typeCronJob)...)
}

// podSpec is where a pod owner keeps its pods' spec.
func podSpec(r Resource) string {
	if r.Type() == typeCronJob {
		return "spec.jobTemplate.spec.template.spec."
	}
	return "spec.template.spec."
}

// container is one container of a pod owner, with what names it in findings.
type container struct {
	m    map[string]any
	name string
	// what is "<owner>: container <name>".
	what string
}

// containers returns the containers of a pod owner's field (initContainers or containers).
// A list, or a container, the engine does not know yet is reported as not judged and left out.
func containers(rep *Report, w Resource, field string) []container {
	v := w.Get(podSpec(w) + field)
	if _, unknown := v.(unknownValue); unknown {
		rep.CannotJudge("%s: %s is not known until the change is applied", id(w), podSpec(w)+field)
		return nil
	}
	list, _ := v.([]any)
	var out []container
	for i, c := range list {
		m, ok := c.(map[string]any)
		if !ok {
			if _, unknown := c.(unknownValue); unknown {
				rep.CannotJudge("%s: %s%s.%d is not known until the change is applied", id(w), podSpec(w), field, i)
			}
			continue
		}
		name := str(m, "name")
		if IsUnknown(m["name"]) {
			name = fmt.Sprintf("%s[%d]", field, i)
		}
		out = append(out, container{m: m, name: name, what: fmt.Sprintf("%s: container %s", id(w), name)})
	}
	return out
}

func resourcesAndProbes(g Graph, _ Env, rep *Report) {
	for _, w := range podOwners(g) {
		long := w.Type() != typeJob && w.Type() != typeCronJob
		for _, field := range []string{"initContainers", "containers"} {
			for _, c := range containers(rep, w, field) {
				if !rep.knownIn(c.what, c.m, "resources", "readinessProbe", "livenessProbe") {
					continue
				}
				for _, q := range []string{"requests", "limits"} {
					// Without ephemeral storage, a container that fills the node's disk
					// (logs, temp files) gets other pods evicted instead of itself.
					for _, res := range []string{"cpu", "memory", "ephemeral-storage"} {
						if str(c.m, "resources", q, res) == "" {
							rep.Violation("%s has no %s.%s", c.what, q, res)
						}
					}
				}
				if field == "containers" && long {
					for _, probe := range []string{"readinessProbe", "livenessProbe"} {
						if c.m[probe] == nil {
							rep.Violation("%s has no %s", c.what, probe)
						}
					}
					// The same check for both restarts a pod that is only busy: readiness
					// should take it out of rotation first.
					if c.m["readinessProbe"] != nil && probeAction(c.m["readinessProbe"]) == probeAction(c.m["livenessProbe"]) {
						rep.Violation("%s checks the same thing for readiness and liveness (%s)", c.what, probeAction(c.m["livenessProbe"]))
					}
				}
			}
		}
	}
}

// probeAction is what a probe checks (its handler), without its timings.
func probeAction(p any) string {
	m, _ := p.(map[string]any)
	for _, h := range []string{"httpGet", "tcpSocket", "exec", "grpc"} {
		if v, ok := m[h]; ok {
			return fmt.Sprintf("%s %v", h, v)
		}
	}
	return ""
}

// containsAll reports whether labels hold every key and value of selector.
func containsAll(labels, selector map[string]any) bool {
	for k, v := range selector {
		if labels[k] != v {
			return false
		}
	}
	return true
}

// selection is whether a Service selects a workload's pods: yes, no, or not known yet.
type selection int

const (
	selectsNot selection = iota
	selectsYes
	selectsUnknown
)

// selects says whether svc's selector picks w's pods (in the same namespace).
func selects(svc, w Resource) selection {
	paths := []string{"spec.selector", "metadata.namespace"}
	for _, p := range paths {
		if IsUnknown(svc.Get(p)) {
			return selectsUnknown
		}
	}
	for _, p := range []string{"spec.template.metadata.labels", "metadata.namespace"} {
		if IsUnknown(w.Get(p)) {
			return selectsUnknown
		}
	}
	sel, _ := svc.Get("spec.selector").(map[string]any)
	labels, _ := w.Get("spec.template.metadata.labels").(map[string]any)
	if len(sel) == 0 || text(svc, "metadata.namespace") != text(w, "metadata.namespace") || !containsAll(labels, sel) {
		return selectsNot
	}
	return selectsYes
}

func zeroDowntimeRollout(g Graph, _ Env, rep *Report) {
	for _, d := range ofType(g, typeDeployment) {
		exemption := "metadata.annotations[" + RolloutExemption + "]"
		if !rep.known(d, "spec.strategy", exemption) || text(d, exemption) != "" {
			continue
		}
		var problem string
		if typ := text(d, "spec.strategy.type"); typ != "RollingUpdate" {
			problem = fmt.Sprintf("its strategy is %q, not RollingUpdate", typ)
		} else if mu := text(d, "spec.strategy.rollingUpdate.maxUnavailable"); mu != "0" && mu != "0%" {
			problem = fmt.Sprintf("maxUnavailable is %q; want 0", mu)
		}
		if problem == "" {
			continue
		}
		// Only a Deployment that serves traffic must keep serving while it rolls.
		served := selectsNot
		for _, svc := range ofType(g, typeService) {
			if s := selects(svc, d); s > served {
				served = s
			}
		}
		switch served {
		case selectsYes:
			rep.Violation("%s: serves traffic but %s", id(d), problem)
		case selectsUnknown:
			rep.CannotJudge("%s: %s, and whether a Service sends it traffic is not known until the change is applied", id(d), problem)
		}
	}
}

var digestRe = regexp.MustCompile(`@sha256:[0-9a-f]{64}$`)

// ImageIsPinned reports whether an image names a version (a tag other than latest, or a
// digest).
func ImageIsPinned(image string) bool {
	if digestRe.MatchString(image) {
		return true
	}
	slash := strings.LastIndex(image, "/")
	colon := strings.LastIndex(image, ":")
	return colon > slash && image[colon+1:] != "latest"
}

func pinnedImages(g Graph, env Env, rep *Report) {
	if !env.Production {
		return
	}
	for _, w := range podOwners(g) {
		for _, field := range []string{"initContainers", "containers"} {
			for _, c := range containers(rep, w, field) {
				if !rep.knownIn(c.what, c.m, "image") {
					continue
				}
				if img := str(c.m, "image"); !ImageIsPinned(img) {
					rep.Violation("%s uses image %q; pin a version", c.what, img)
				}
			}
		}
	}
}

func hpaBounds(g Graph, _ Env, rep *Report) {
	for _, h := range ofType(g, typeHPA) {
		if !rep.known(h, "spec.minReplicas", "spec.maxReplicas", "spec.metrics") {
			continue
		}
		min := 1.0
		if v, ok := h.Get("spec.minReplicas").(float64); ok {
			min = v
		}
		max, _ := h.Get("spec.maxReplicas").(float64)
		if max <= min {
			rep.Violation("%s: maxReplicas %v is not greater than minReplicas %v", id(h), max, min)
		}
		if m, _ := h.Get("spec.metrics").([]any); len(m) == 0 {
			rep.Violation("%s: has no metric target", id(h))
		}
	}
}

var (
	sensitiveName = regexp.MustCompile(`(?i)(password|passwd|secret|token|api_?key|private_?key|encryption_?key)`)
	// A literal assignment in a config file: key = "value" or key: value, where the value is
	// not a reference such as $env{...}, $ref{...} or ${...}.
	literalAssignment = regexp.MustCompile(`(?im)^\s*['"]?[\w.-]*(password|secret|token|apikey|api_key|moesifkey)['"]?\s*[=:]\s*"?([^"$\s][^"\s]*)`)
)

func noPlaintextSecrets(g Graph, _ Env, rep *Report) {
	for _, cm := range ofType(g, typeConfigMap) {
		if _, unknown := cm.Get("data").(unknownValue); unknown {
			rep.CannotJudge("%s: data is not known until the change is applied", id(cm))
			continue
		}
		data, _ := cm.Get("data").(map[string]any)
		for _, k := range sortedKeys(data) {
			if IsUnknown(data[k]) {
				rep.CannotJudge("%s: data %s is not known until the change is applied", id(cm), k)
				continue
			}
			if m := literalAssignment.FindStringSubmatch(fmt.Sprint(data[k])); m != nil {
				rep.Violation("%s: data %s assigns a literal to %s", id(cm), k, strings.TrimSpace(strings.SplitN(m[0], "=", 2)[0]))
			}
		}
	}
	for _, w := range podOwners(g) {
		for _, field := range []string{"initContainers", "containers"} {
			for _, c := range containers(rep, w, field) {
				if _, unknown := c.m["env"].(unknownValue); unknown {
					rep.CannotJudge("%s: env is not known until the change is applied", c.what)
					continue
				}
				envs, _ := c.m["env"].([]any)
				for _, e := range envs {
					ev, _ := e.(map[string]any)
					if IsUnknown(ev["name"]) {
						rep.CannotJudge("%s: the name of an env variable is not known until the change is applied", c.what)
						continue
					}
					// A value, known or not, is written into the pod spec: only valueFrom
					// keeps it out.
					if sensitiveName.MatchString(str(ev, "name")) && ev["value"] != nil {
						rep.Violation("%s env %s is a literal; read it from a Secret", c.what, str(ev, "name"))
					}
				}
			}
		}
	}
	for _, s := range ofType(g, typeSecret) {
		for _, field := range []string{"data", "stringData"} {
			v := s.Get(field)
			if _, unknown := v.(unknownValue); unknown && !s.IsSecret(field) {
				rep.CannotJudge("%s: %s is not known until the change is applied", id(s), field)
				continue
			}
			m, _ := v.(map[string]any)
			for _, k := range sortedKeys(m) {
				if !s.IsSecret(field + "[" + k + "]") {
					rep.Violation("%s: %s.%s is not a Pulumi secret, so it is stored in plain text in state", id(s), field, k)
				}
			}
		}
	}
}

// RequiredLabels are the app.kubernetes.io labels every object carries.
var RequiredLabels = []string{"app.kubernetes.io/part-of", "app.kubernetes.io/managed-by"}

// RequiredPodLabels are the labels every pod template carries in addition.
var RequiredPodLabels = []string{"app.kubernetes.io/name", "app.kubernetes.io/component"}

func standardLabels(g Graph, _ Env, rep *Report) {
	for _, r := range withPrefix(g, "kubernetes:") {
		for _, l := range RequiredLabels {
			path := "metadata.labels[" + l + "]"
			if rep.known(r, path) && text(r, path) == "" {
				rep.Violation("%s: no label %s", id(r), l)
			}
		}
	}
	for _, w := range podOwners(g) {
		template := strings.TrimSuffix(podSpec(w), "spec.")
		for _, l := range append(RequiredPodLabels, RequiredLabels...) {
			path := template + "metadata.labels[" + l + "]"
			if rep.known(w, path) && text(w, path) == "" {
				rep.Violation("%s: pod template has no label %s", id(w), l)
			}
		}
	}
}

// restrictedPods holds the restricted Pod Security Standard (and more: capabilities dropped
// even where the standard allows NET_BIND_SERVICE) on every pod, except in namespaces the
// program itself labels privileged or baseline (the in-cluster NFS server, Filestore's
// directory Job).
func restrictedPods(g Graph, _ Env, rep *Report) {
	const level = "metadata.labels[pod-security.kubernetes.io/enforce]"
	exempt := map[string]bool{}
	exemptUnknown := false
	for _, ns := range ofType(g, typeNamespace) {
		if IsUnknown(ns.Get(level)) || IsUnknown(ns.Get("metadata.name")) {
			exemptUnknown = true
			continue
		}
		if l := text(ns, level); l != "" && l != "restricted" {
			exempt[text(ns, "metadata.name")] = true
		}
	}
	for _, w := range podOwners(g) {
		if !rep.known(w, "metadata.namespace", podSpec(w)+"securityContext") || exempt[text(w, "metadata.namespace")] {
			continue
		}
		pod, _ := w.Get(podSpec(w) + "securityContext").(map[string]any)
		for _, field := range []string{"initContainers", "containers"} {
			for _, c := range containers(rep, w, field) {
				if !rep.knownIn(c.what, c.m, "securityContext") {
					continue
				}
				sc, _ := c.m["securityContext"].(map[string]any)
				pick := func(key string) string {
					if v := str(sc, key); v != "" {
						return v
					}
					return str(pod, key)
				}
				var problems []string
				if pick("runAsNonRoot") != "true" {
					problems = append(problems, "may run as root (runAsNonRoot is not true)")
				}
				if str(sc, "allowPrivilegeEscalation") != "false" {
					problems = append(problems, "allows privilege escalation")
				}
				if drop := str(sc, "capabilities", "drop"); drop != "[ALL]" {
					problems = append(problems, fmt.Sprintf("keeps capabilities (drop is %q, want [ALL])", drop))
				}
				seccomp := str(sc, "seccompProfile", "type")
				if seccomp == "" {
					seccomp = str(pod, "seccompProfile", "type")
				}
				if seccomp != "RuntimeDefault" && seccomp != "Localhost" {
					problems = append(problems, "has no RuntimeDefault seccomp profile")
				}
				for _, p := range problems {
					// A namespace whose level is not known yet may exempt it.
					if exemptUnknown {
						rep.CannotJudge("%s %s, and its namespace's Pod Security level is not known until the change is applied", c.what, p)
					} else {
						rep.Violation("%s %s", c.what, p)
					}
				}
			}
		}
	}
}

// drainOutlasted: a pod that stops serving before the load balancer has drained it fails the
// requests still in flight; one that is killed before its preStop ends never shuts down
// gracefully.
func drainOutlasted(g Graph, _ Env, rep *Report) {
	const drainingPath = "spec.connectionDraining.drainingTimeoutSec"
	draining := map[string]float64{}
	for _, bc := range ofType(g, "kubernetes:cloud.google.com/v1:BackendConfig") {
		if !rep.known(bc, "metadata.name", drainingPath) {
			continue
		}
		if d, ok := bc.Get(drainingPath).(float64); ok {
			draining[text(bc, "metadata.name")] = d
		}
	}
	const backendConfig = "metadata.annotations[cloud.google.com/backend-config]"
	for _, svc := range ofType(g, typeService) {
		if !rep.known(svc, backendConfig) {
			continue
		}
		var configs struct {
			Ports map[string]string `json:"ports"`
		}
		_ = json.Unmarshal([]byte(text(svc, backendConfig)), &configs)
		need := -1.0
		for _, name := range configs.Ports {
			if d, ok := draining[name]; ok && d+ingress.EndpointPropagationSeconds > need {
				need = d + ingress.EndpointPropagationSeconds
			}
		}
		if need < 0 {
			continue
		}
		for _, w := range podOwners(g) {
			switch selects(svc, w) {
			case selectsNot:
				continue
			case selectsUnknown:
				rep.CannotJudge("%s: whether %s sends it traffic is not known until the change is applied", id(w), id(svc))
				continue
			}
			if !rep.known(w, "spec.template.spec.terminationGracePeriodSeconds") {
				continue
			}
			grace, _ := w.Get("spec.template.spec.terminationGracePeriodSeconds").(float64)
			if grace == 0 {
				grace = 30 // Kubernetes' default
			}
			for _, c := range containers(rep, w, "containers") {
				if !rep.knownIn(c.what, c.m, "lifecycle") {
					continue
				}
				stop := preStopSeconds(c.m)
				if stop < need {
					rep.Violation("%s: container %s stops serving after %gs (preStop) behind %s, which drains for %gs plus %ds for endpoints to propagate",
						id(w), c.name, stop, id(svc), need-ingress.EndpointPropagationSeconds, ingress.EndpointPropagationSeconds)
				}
				if grace <= stop {
					rep.Violation("%s: grace period %gs does not outlast container %s's %gs preStop", id(w), grace, c.name, stop)
				}
			}
		}
	}
}

// preStopSeconds is how long a container's preStop hook waits: a sleep action, or an exec of
// sleep N; 0 without one.
func preStopSeconds(c map[string]any) float64 {
	pre, _ := c["lifecycle"].(map[string]any)
	pre, _ = pre["preStop"].(map[string]any)
	if s, ok := pre["sleep"].(map[string]any); ok {
		v, _ := s["seconds"].(float64)
		return v
	}
	exec, _ := pre["exec"].(map[string]any)
	cmd, _ := exec["command"].([]any)
	if len(cmd) == 2 && cmd[0] == "sleep" {
		v, _ := strconv.ParseFloat(fmt.Sprint(cmd[1]), 64)
		return v
	}
	return 0
}
