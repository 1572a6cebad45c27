// Command fakekubelet stands in for the kubelet and the scheduler on an API server that has
// no real nodes: what no upstream component does without a real node. It keeps one Ready
// node, binds every unscheduled pod to it, reports pods Running and Ready (or Succeeded for
// Jobs) a moment after they appear, and completes pod deletions. Nothing runs: it exists so
// that the Pulumi provider's await logic and the Deployment controller's rollouts really
// happen in the end-to-end suite. Volumes are the controller manager's: its host-path
// provisioner (tests/e2e/env/up.sh) makes and deletes them.
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"os"
	"os/signal"
	"syscall"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
)

const nodeName = "e2e-node"

func main() {
	kubeconfig := flag.String("kubeconfig", os.Getenv("KUBECONFIG"), "kubeconfig of the API server")
	readyAfter := flag.Duration("ready-after", 2*time.Second, "how long a pod takes to become Ready")
	flag.Parse()

	cfg, err := clientcmd.BuildConfigFromFlags("", *kubeconfig)
	if err != nil {
		log.Fatalf("kubeconfig: %v", err)
	}
	cfg.QPS, cfg.Burst = 200, 400
	c := kubernetes.NewForConfigOrDie(cfg)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	f := &fake{c: c, readyAfter: *readyAfter, ips: map[string]string{}}
	tick := time.NewTicker(300 * time.Millisecond)
	defer tick.Stop()
	lastHeartbeat := time.Time{}
	for {
		if time.Since(lastHeartbeat) > 10*time.Second {
			if err := f.heartbeat(ctx); err != nil {
				log.Printf("node: %v", err)
			} else {
				lastHeartbeat = time.Now()
			}
		}
		f.pods(ctx)
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

type fake struct {
	c          kubernetes.Interface
	readyAfter time.Duration
	ips        map[string]string
	nextIP     int
}

func (f *fake) heartbeat(ctx context.Context) error {
	nodes := f.c.CoreV1().Nodes()
	node, err := nodes.Get(ctx, nodeName, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		node, err = nodes.Create(ctx, &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: nodeName, Labels: map[string]string{
			"kubernetes.io/hostname":        nodeName,
			"topology.kubernetes.io/zone":   "e2e-zone-a",
			"topology.kubernetes.io/region": "e2e",
		}}}, metav1.CreateOptions{})
	}
	if err != nil {
		return err
	}
	now := metav1.Now()
	capacity := corev1.ResourceList{
		corev1.ResourceCPU:    resource.MustParse("64"),
		corev1.ResourceMemory: resource.MustParse("256Gi"),
		corev1.ResourcePods:   resource.MustParse("500"),
	}
	node.Status.Capacity, node.Status.Allocatable = capacity, capacity
	node.Status.Addresses = []corev1.NodeAddress{{Type: corev1.NodeInternalIP, Address: "127.0.0.1"}}
	node.Status.Conditions = []corev1.NodeCondition{{
		Type: corev1.NodeReady, Status: corev1.ConditionTrue, Reason: "FakeKubeletReady",
		LastHeartbeatTime: now, LastTransitionTime: now,
	}}
	_, err = nodes.UpdateStatus(ctx, node, metav1.UpdateOptions{})
	return err
}

func (f *fake) pods(ctx context.Context) {
	list, err := f.c.CoreV1().Pods("").List(ctx, metav1.ListOptions{})
	if err != nil {
		log.Printf("list pods: %v", err)
		return
	}
	for i := range list.Items {
		p := &list.Items[i]
		switch {
		case p.DeletionTimestamp != nil:
			zero := int64(0)
			err = f.c.CoreV1().Pods(p.Namespace).Delete(ctx, p.Name, metav1.DeleteOptions{GracePeriodSeconds: &zero})
		case p.Spec.NodeName == "":
			err = f.c.CoreV1().Pods(p.Namespace).Bind(ctx, &corev1.Binding{
				ObjectMeta: metav1.ObjectMeta{Name: p.Name, Namespace: p.Namespace, UID: p.UID},
				Target:     corev1.ObjectReference{Kind: "Node", Name: nodeName},
			}, metav1.CreateOptions{})
		case p.Status.Phase == corev1.PodPending && time.Since(p.CreationTimestamp.Time) >= f.readyAfter:
			err = f.start(ctx, p)
		}
		if err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
			log.Printf("pod %s/%s: %v", p.Namespace, p.Name, err)
		}
	}
}

// start reports the pod as running and ready, or, for run-to-completion pods, succeeded.
func (f *fake) start(ctx context.Context, p *corev1.Pod) error {
	now := metav1.Now()
	done := p.Spec.RestartPolicy != corev1.RestartPolicyAlways
	ip := f.ip(string(p.UID))
	p.Status.HostIP, p.Status.PodIP = "127.0.0.1", ip
	p.Status.PodIPs = []corev1.PodIP{{IP: ip}}
	p.Status.StartTime = &now
	p.Status.InitContainerStatuses = nil
	for _, c := range p.Spec.InitContainers {
		p.Status.InitContainerStatuses = append(p.Status.InitContainerStatuses, terminated(c, now))
	}
	p.Status.ContainerStatuses = nil
	for _, c := range p.Spec.Containers {
		if done {
			p.Status.ContainerStatuses = append(p.Status.ContainerStatuses, terminated(c, now))
			continue
		}
		started := true
		p.Status.ContainerStatuses = append(p.Status.ContainerStatuses, corev1.ContainerStatus{
			Name: c.Name, Image: c.Image, ImageID: "fake://" + c.Image, Ready: true, Started: &started,
			State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: now}},
		})
	}
	ready := corev1.ConditionTrue
	p.Status.Phase = corev1.PodRunning
	if done {
		p.Status.Phase, ready = corev1.PodSucceeded, corev1.ConditionFalse
	}
	p.Status.Conditions = []corev1.PodCondition{
		{Type: corev1.PodScheduled, Status: corev1.ConditionTrue, LastTransitionTime: now},
		{Type: corev1.PodInitialized, Status: corev1.ConditionTrue, LastTransitionTime: now},
		{Type: corev1.ContainersReady, Status: ready, LastTransitionTime: now},
		{Type: corev1.PodReady, Status: ready, LastTransitionTime: now},
	}
	_, err := f.c.CoreV1().Pods(p.Namespace).UpdateStatus(ctx, p, metav1.UpdateOptions{})
	return err
}

func terminated(c corev1.Container, now metav1.Time) corev1.ContainerStatus {
	return corev1.ContainerStatus{Name: c.Name, Image: c.Image, ImageID: "fake://" + c.Image,
		State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{
			ExitCode: 0, Reason: "Completed", StartedAt: now, FinishedAt: now}}}
}

func (f *fake) ip(uid string) string {
	if ip, ok := f.ips[uid]; ok {
		return ip
	}
	f.nextIP++
	ip := fmt.Sprintf("10.244.%d.%d", f.nextIP/250, f.nextIP%250+1)
	f.ips[uid] = ip
	return ip
}
