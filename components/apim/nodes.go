package apim

import (
	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/wso2-k8s/apim-gke/components/kube"
)

// NodeConfigScript copies this node's deployment.toml, named by the ordinal that ends the pod's
// name (a StatefulSet's apim-cp-1 is node 1), from the ConfigMap in $CONF_DIR to $OUT_DIR.
const NodeConfigScript = `set -eu
node="${POD_NAME##*-}"
src="$CONF_DIR/deployment-$node.toml"
if [ ! -f "$src" ]; then
  echo "node-config: no deployment.toml for node $node of $POD_NAME (apim.replicas is lower than the nodes running?)" >&2
  exit 1
fi
cp "$src" "$OUT_DIR/deployment.toml"
echo "node-config: $POD_NAME runs as node $node"
`

const nodeConfVolume = "node-conf"

// NodeConfigResources: a shell and one copy.
var NodeConfigResources = kube.Resources{Requests: kube.Compute{CPU: "10m", Memory: "16Mi", EphemeralStorage: "1Mi"},
	Limits: kube.Compute{CPU: "100m", Memory: "32Mi", EphemeralStorage: "4Mi"}}

// nodeConfigInit runs NodeConfigScript in the workload's image.
func nodeConfigInit(image string) corev1.ContainerArgs {
	return corev1.ContainerArgs{
		Name:    pulumi.String("node-config"),
		Image:   pulumi.String(image),
		Command: pulumi.StringArray{pulumi.String("sh"), pulumi.String("-c"), pulumi.String(NodeConfigScript)},
		Env: corev1.EnvVarArray{
			corev1.EnvVarArgs{Name: pulumi.String("POD_NAME"), ValueFrom: &corev1.EnvVarSourceArgs{
				FieldRef: &corev1.ObjectFieldSelectorArgs{FieldPath: pulumi.String("metadata.name")}}},
			corev1.EnvVarArgs{Name: pulumi.String("CONF_DIR"), Value: pulumi.String("/conf")},
			corev1.EnvVarArgs{Name: pulumi.String("OUT_DIR"), Value: pulumi.String("/node-conf")},
		},
		SecurityContext: kube.ContainerSecurity(wso2UID, true),
		Resources:       NodeConfigResources.Args(),
		VolumeMounts: corev1.VolumeMountArray{
			corev1.VolumeMountArgs{Name: pulumi.String("conf"), MountPath: pulumi.String("/conf"), ReadOnly: pulumi.Bool(true)},
			corev1.VolumeMountArgs{Name: pulumi.String(nodeConfVolume), MountPath: pulumi.String("/node-conf")},
		},
	}
}
