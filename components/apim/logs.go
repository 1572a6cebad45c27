package apim

import (
	_ "embed"
	"fmt"
	"path"
	"strings"

	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/wso2-k8s/apim-gke/components/kube"
	"github.com/wso2-k8s/apim-gke/components/validate"
)

// WSO2 4.7.0's log4j2.properties of each distribution with every file under repository/logs
// rolled by size only and a bounded count, written by tools/log4j2gen (see the files' headers).
var (
	//go:embed log4j2/all-in-one.properties
	log4j2AllInOne string
	//go:embed log4j2/universal-gw.properties
	log4j2UniversalGW string
)

// Log4j2Key is the key of log4j2.properties in a workload's ConfigMap.
const Log4j2Key = "log4j2.properties"

// Log4j2Properties is the log4j2.properties the pods of a component (ComponentControlPlane,
// ComponentGateway) run with: the all-in-one distribution's for the control plane, the
// universal gateway's for the gateway.
func Log4j2Properties(component string) string {
	if component == ComponentGateway {
		return log4j2UniversalGW
	}
	return log4j2AllInOne
}

// LogsSizeLimit is the sizeLimit of the repository/logs emptyDir (Workload.LogsVolume). The
// generated log4j2.properties let the server keep at most 1,440.7 MiB there (the gateway's;
// the all-in-one's 1,480.7 MiB: see the tables in their headers). The rest is margin for what
// that bound leaves out: a rolled file and its .gz side by side while log4j2 compresses, and
// a rotated apim_metrics.log (256 MiB) still held open by the analytics shipper after log4j2
// deleted it.
const LogsSizeLimit = "2Gi"

// The JVM's OutOfMemoryError heap dump goes to a volume of its own, mounted at HeapDumpDir
// under the server home: WSO2's start scripts point -XX:HeapDumpPath into repository/logs,
// which would then need room for a whole heap as well.
const (
	heapDumpVolume = "heap-dump"
	HeapDumpDir    = "heap-dump"
	// HeapDumpFile is the dump's name in HeapDumpDir. A second OutOfMemoryError finds the file
	// there and writes nothing (the JVM does not overwrite), so the volume holds one dump.
	HeapDumpFile = "heap-dump.hprof"
)

// heapDumpMiB is the heap dump volume's sizeLimit. An HPROF dump writes each reference as an
// 8-byte id where the heap, with compressed oops, holds 4 bytes, and each object's record
// header in about 25 bytes where the heap has 12: a heap of small, reference-holding objects
// dumps to nearly twice its size (primitive arrays, to about their size). Hence twice -Xmx,
// plus 256Mi for the class, string and thread records.
func (w Workload) heapDumpMiB() int { return 2*w.HeapMB + 256 }

// javaOpts reach the JVM's command line after the start script's own -XX:HeapDumpPath
// (bin/api-manager.sh and bin/gateway.sh of 4.7.0 run "$JVM_MEM_OPTS
// -XX:+HeapDumpOnOutOfMemoryError -XX:HeapDumpPath=... $JAVA_OPTS"), and the JVM takes the last
// value of a flag.
func (w Workload) javaOpts() string {
	return strings.Join(append([]string{"-XX:HeapDumpPath=" + path.Join(w.ServerHome, HeapDumpDir, HeapDumpFile)}, TLSJavaOpts...), " ")
}

// TLSJavaOpts are the JVM settings of WSO2's production security guidelines that its start
// scripts leave out and JAVA_OPTS (read before the scripts' own -D flags) can carry: 2048-bit
// ephemeral Diffie-Hellman keys, and no client-initiated TLS renegotiation.
var TLSJavaOpts = []string{"-Djdk.tls.ephemeralDHKeySize=2048", "-Djdk.tls.rejectClientInitiatedRenegotiation=true"}

// logging is what every API Manager pod gets for its logs: the project's log4j2.properties
// from the ConfigMap in the config volume, which the image's entrypoint copies over the server
// home at start, and the heap dump volume with JAVA_OPTS pointing at it.
func (s workloadSpec) logging() (corev1.VolumeMountArray, corev1.VolumeArray, corev1.EnvVarArgs) {
	mounts := corev1.VolumeMountArray{
		corev1.VolumeMountArgs{Name: pulumi.String("conf"), SubPath: pulumi.String(Log4j2Key),
			MountPath: pulumi.String(path.Join(configVolumeRoot, "repository/conf", Log4j2Key))},
		corev1.VolumeMountArgs{Name: pulumi.String(heapDumpVolume), MountPath: pulumi.String(path.Join(s.w.ServerHome, HeapDumpDir))},
	}
	volumes := corev1.VolumeArray{corev1.VolumeArgs{Name: pulumi.String(heapDumpVolume),
		EmptyDir: &corev1.EmptyDirVolumeSourceArgs{SizeLimit: pulumi.String(fmt.Sprintf("%dMi", s.w.heapDumpMiB()))}}}
	return mounts, volumes, corev1.EnvVarArgs{Name: pulumi.String("JAVA_OPTS"), Value: pulumi.String(s.w.javaOpts())}
}

// log4j2 is the workload's log4j2.properties.
func (s workloadSpec) log4j2() string { return Log4j2Properties(s.component) }

// validateDisk checks that the API Manager container's ephemeral-storage limit holds what the
// pod keeps on the node's disk beyond the image: a heap dump and the logs (in their emptyDir,
// or in the container's own layer). The kubelet evicts a pod whose containers and emptyDirs
// together use more than its containers' limits.
func (w Workload) validateDisk(key string) validate.Problems {
	var p validate.Problems
	limit, err := kube.MemoryBytes(w.Resources.Limits.EphemeralStorage)
	logs, _ := kube.MemoryBytes(LogsSizeLimit)
	if err != nil || w.HeapMB <= 0 {
		return p // reported by the resources and heapMb checks
	}
	need := int64(w.heapDumpMiB())<<20 + logs
	if limit < need {
		p.Addf(validate.Key(key, "resources.limits.ephemeralStorage"),
			"%s does not hold a heap dump (%dMi for heapMb %d: twice the heap, plus 256Mi) and the logs (%s); want at least %s",
			w.Resources.Limits.EphemeralStorage, w.heapDumpMiB(), w.HeapMB, LogsSizeLimit, fmt.Sprintf("%dMi", need>>20))
	}
	return p
}
