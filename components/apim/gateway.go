package apim

import (
	"fmt"

	autoscalingv2 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/autoscaling/v2"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/wso2-k8s/apim-gke/components/kube"
)

// Gateway is the component's public face.
type Gateway struct {
	pulumi.ResourceState

	// Service is the in-cluster Service name (8243 HTTPS, 8280 HTTP API traffic).
	Service string
	// TOML is the rendered deployment.toml.
	TOML string
}

// NewGateway creates the universal gateway Deployment, its Service, PodDisruptionBudget and an
// autoscaling/v2 HorizontalPodAutoscaler on CPU.
func NewGateway(ctx *pulumi.Context, name string, args *GatewayArgs, opts ...pulumi.ResourceOption) (*Gateway, error) {
	if args == nil {
		return nil, fmt.Errorf("apim gateway %q: args are required", name)
	}
	a, problems := args.Resolve("")
	if err := check(fmt.Sprintf("apim gateway %q", name), problems, a.Shared, a.resolved); err != nil {
		return nil, err
	}
	gw := &Gateway{Service: a.Name, TOML: RenderGatewayTOML(a)}
	if err := ctx.RegisterComponentResource("wso2apim:apim:Gateway", name, gw, opts...); err != nil {
		return nil, err
	}
	parent := pulumi.Parent(gw)
	s := workloadSpec{
		w: a.Workload, sh: a.Shared, component: ComponentGateway, tomls: []string{gw.TOML},
		ports: map[string]int{PortNameHTTPS: PortHTTPS, "http": PortHTTP, PortNameGatewayHTTPS: PortGatewayHTTPS, "gw-http": PortGatewayHTTP,
			"websocket-http": PortWebSocket, PortNameWebSocketSecure: PortWebSocketSecure, "websub-http": PortWebSub, PortNameWebSubSecure: PortWebSubSecure},
	}
	dep, err := newWorkload(ctx, name, s, parent)
	if err != nil {
		return nil, err
	}

	if _, err := autoscalingv2.NewHorizontalPodAutoscaler(ctx, name, &autoscalingv2.HorizontalPodAutoscalerArgs{
		Metadata: s.meta(a.Name),
		Spec: &autoscalingv2.HorizontalPodAutoscalerSpecArgs{
			ScaleTargetRef: &autoscalingv2.CrossVersionObjectReferenceArgs{
				ApiVersion: pulumi.String("apps/v1"),
				Kind:       pulumi.String("Deployment"),
				Name:       dep,
			},
			MinReplicas: pulumi.Int(a.MinReplicas),
			MaxReplicas: pulumi.Int(a.MaxReplicas),
			Metrics: autoscalingv2.MetricSpecArray{autoscalingv2.MetricSpecArgs{
				Type: pulumi.String("Resource"),
				Resource: &autoscalingv2.ResourceMetricSourceArgs{
					Name: pulumi.String("cpu"),
					Target: &autoscalingv2.MetricTargetArgs{
						Type:               pulumi.String("Utilization"),
						AverageUtilization: pulumi.Int(a.CPUTargetPercent),
					},
				},
			}},
			Behavior: &autoscalingv2.HorizontalPodAutoscalerBehaviorArgs{
				// Scale up at once (a new pod needs minutes to start), down slowly and by
				// half at most, so a short lull does not throw away warm gateways.
				ScaleUp: &autoscalingv2.HPAScalingRulesArgs{
					StabilizationWindowSeconds: pulumi.Int(0),
					Policies: autoscalingv2.HPAScalingPolicyArray{autoscalingv2.HPAScalingPolicyArgs{
						Type: pulumi.String("Pods"), Value: pulumi.Int(2), PeriodSeconds: pulumi.Int(60)}},
				},
				ScaleDown: &autoscalingv2.HPAScalingRulesArgs{
					StabilizationWindowSeconds: pulumi.Int(*a.ScaleDownStabilizationSeconds),
					Policies: autoscalingv2.HPAScalingPolicyArray{autoscalingv2.HPAScalingPolicyArgs{
						Type: pulumi.String("Percent"), Value: pulumi.Int(50), PeriodSeconds: pulumi.Int(60)}},
				},
			},
		},
	}, parent); err != nil {
		return nil, err
	}

	// In: the control plane deploys APIs on the admin port; clients (the load balancer or the
	// ingress controller, whose health checks use the admin port too) reach the listeners.
	// Out: the control plane's event hub, traffic manager and key manager, the JDBC driver's
	// server, plus a.Egress.
	cp := []kube.Peer{{Pods: kube.Selector(a.ControlPlaneService, ComponentControlPlane)}}
	listeners := kube.TCP(PortHTTPS, PortGatewayHTTPS, PortGatewayHTTP, PortWebSocket, PortWebSocketSecure, PortWebSub, PortWebSubSecure)
	ingress := []kube.Rule{{Peers: cp, Ports: kube.TCP(PortHTTPS)}, {Peers: a.clients(), Ports: listeners}}
	egress := append([]kube.Rule{
		{Peers: cp, Ports: kube.TCP(PortHTTPS, PortThrottle, PortThrottleSSL, PortEventHub)},
		a.JDBCDriver.egress(),
	}, a.Egress...)
	ingress, egress = a.Metrics.rules(ingress, egress)
	if err := kube.NewPolicy(ctx, name, s.meta(a.Name), s.selector(), ingress, egress, parent); err != nil {
		return nil, err
	}

	if err := ctx.RegisterResourceOutputs(gw, pulumi.Map{"service": pulumi.String(gw.Service)}); err != nil {
		return nil, err
	}
	return gw, nil
}
