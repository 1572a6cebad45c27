package gke

import "fmt"

// Kubeconfig renders a kubeconfig for a GKE cluster that authenticates through
// gke-gcloud-auth-plugin, so that no static token ends up in Pulumi state and credentials are
// whatever the caller's gcloud (or CI's Workload Identity Federation) provides.
func Kubeconfig(clusterName, endpoint, caCertificate string) string {
	return fmt.Sprintf(`apiVersion: v1
kind: Config
clusters:
- name: %[1]s
  cluster:
    certificate-authority-data: %[3]s
    server: https://%[2]s
contexts:
- name: %[1]s
  context:
    cluster: %[1]s
    user: %[1]s
current-context: %[1]s
users:
- name: %[1]s
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1beta1
      command: gke-gcloud-auth-plugin
      installHint: Install gke-gcloud-auth-plugin, e.g. 'gcloud components install gke-gcloud-auth-plugin'.
      provideClusterInfo: true
`, clusterName, endpoint, caCertificate)
}
