// Package ingress publishes the API Manager portals (am.<domain>) and gateway (gw.<domain>):
// on GKE through the GKE-native HTTPS load balancer (Ingress class gce, BackendConfigs with
// health checks and cookie affinity, a FrontendConfig redirecting HTTP to HTTPS, a reserved
// global IP and Google-managed certificates), elsewhere through an Ingress class such as nginx.
package ingress
