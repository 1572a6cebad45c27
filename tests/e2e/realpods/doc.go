// Package realpods is the real-pods e2e tier: the local stack deployed by the real Pulumi
// engine into a cluster with a real kubelet, kube-scheduler and kube-proxy on containerd, with
// stand-in images (standin/, built into images by images/) where WSO2's cannot run. The test
// (build tag realpods) measures the gateway's rollout and autoscaling under real traffic;
// run.sh starts the node (../env/realnode-up.sh), runs it and tears everything down.
package realpods
