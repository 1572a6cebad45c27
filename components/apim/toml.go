package apim

import (
	"bytes"
	"fmt"
	"text/template"
)

// Passwords and keys never appear in deployment.toml: it reads them from the environment
// ($env{...}), which the pods fill from Secrets. So the rendered file is plain data, safe in
// a ConfigMap and in Pulumi state, and its checksum is known at plan time.

var funcs = template.FuncMap{"port": func(p int) string { return fmt.Sprint(p) }}

const common = `{{define "common"}}
[super_admin]
username = "{{.AdminUsername}}"
password = "$env{WSO2_ADMIN_PASSWORD}"
create_admin_account = true

[user_store]
type = "database_unique_id"
{{range .Databases}}
[database.{{.}}]
type = "mysql"
url = "jdbc:mysql://{{$.Database.Host}}:{{$.Database.Port}}/{{.}}?useSSL=false&allowPublicKeyRetrieval=true&autoReconnect=true"
username = "{{$.Database.Username}}"
password = "$env{WSO2_DB_PASSWORD}"
driver = "com.mysql.cj.jdbc.Driver"

[database.{{.}}.pool_options]
validationQuery = "SELECT 1"
testOnBorrow = true
maxActive = 100
maxWait = 60000
minIdle = 5
{{end}}
[transport.http]
properties.port = 9763
properties.proxyPort = 80

[transport.https]
properties.port = 9443
properties.proxyPort = 443

[encryption]
internal_crypto_provider = "org.wso2.carbon.crypto.provider.SymmetricKeyInternalCryptoProvider"
key = "$env{WSO2_ENCRYPTION_KEY}"

[apim.analytics]
{{- if eq .Analytics.Type ""}}
enable = false
{{- else}}
enable = true
type = "{{.Analytics.Type}}"
{{- end}}
{{- if eq .Analytics.Type "moesif"}}

[apim.analytics.properties]
moesifKey = "$env{WSO2_MOESIF_KEY}"
{{- end}}
{{end}}`

var controlPlaneTOML = template.Must(template.New("cp").Funcs(funcs).Parse(common + `[server]
hostname = "{{.ManagementHostname}}"
node_ip = "$env{NODE_IP}"
mode = "single"
base_path = "${carbon.protocol}://${carbon.host}:${carbon.management.port}"
server_role = "default"
{{template "common" .}}
[[apim.gateway.environment]]
name = "Default"
type = "hybrid"
gateway_type = "Regular"
provider = "wso2"
display_in_api_console = true
description = "The autoscaled universal gateway"
show_as_token_endpoint_url = true
service_url = "https://{{.GatewayService}}:9443/services/"
username = "${admin.username}"
password = "${admin.password}"
http_endpoint = "http://{{.GatewayHostname}}"
https_endpoint = "https://{{.GatewayHostname}}"
ws_endpoint = "ws://{{.GatewayHostname}}"
wss_endpoint = "wss://{{.GatewayHostname}}"

[apim.sync_runtime_artifacts.gateway]
gateway_labels = ["Default"]

[apim.key_manager]
service_url = "https://{{.Name}}:${mgt.transport.https.port}/services/"
username = "$ref{super_admin.username}"
password = "$ref{super_admin.password}"

[oauth.endpoints]
oauth2_jwks_url = "https://{{.Name}}:9443/oauth2/jwks"

[apim.devportal]
url = "https://{{.ManagementHostname}}/devportal"

[[event_listener]]
id = "token_revocation"
type = "org.wso2.carbon.identity.core.handler.AbstractIdentityHandler"
name = "org.wso2.is.notification.ApimOauthEventInterceptor"
order = 1

[event_listener.properties]
notification_endpoint = "https://{{.Name}}:${mgt.transport.https.port}/internal/data/v1/notify"
username = "${admin.username}"
password = "${admin.password}"
'header.X-WSO2-KEY-MANAGER' = "default"
`))

var gatewayTOML = template.Must(template.New("gw").Funcs(funcs).Parse(common + `[server]
hostname = "{{.GatewayHostname}}"
node_ip = "$env{NODE_IP}"
server_role = "default"
{{template "common" .}}
[apim.key_manager]
service_url = "https://{{.ControlPlaneService}}:9443/services/"
username = "$ref{super_admin.username}"
password = "$ref{super_admin.password}"

# Every gateway pod pulls the APIs deployed to this label when it starts, then follows the
# control plane's event hub, so a pod the autoscaler adds serves every published API.
[apim.sync_runtime_artifacts.gateway]
gateway_labels = ["Default"]

[apim.event_hub]
enable = true
username = "$ref{super_admin.username}"
password = "$ref{super_admin.password}"
service_url = "https://{{.ControlPlaneService}}:9443/services/"
event_listening_endpoints = ["tcp://{{.ControlPlaneService}}:5672"]

[apim.throttling]
username = "$ref{super_admin.username}"
password = "$ref{super_admin.password}"
service_url = "https://{{.ControlPlaneService}}:9443/services/"
throttle_decision_endpoints = ["tcp://{{.ControlPlaneService}}:5672"]

[[apim.throttling.url_group]]
traffic_manager_urls = ["tcp://{{.ControlPlaneService}}:9611"]
traffic_manager_auth_urls = ["ssl://{{.ControlPlaneService}}:9711"]
type = "loadbalance"
`))

// RenderControlPlaneTOML renders the control plane's deployment.toml from defaulted args.
func RenderControlPlaneTOML(a ControlPlaneArgs) string {
	return render(controlPlaneTOML, struct {
		ControlPlaneArgs
		Databases []string
	}{a, []string{"apim_db", "shared_db"}})
}

// RenderGatewayTOML renders the gateway's deployment.toml from defaulted args. The gateway
// only needs shared_db (users and tenants); APIs come from the control plane.
func RenderGatewayTOML(a GatewayArgs) string {
	return render(gatewayTOML, struct {
		GatewayArgs
		Databases []string
	}{a, []string{"shared_db"}})
}

func render(t *template.Template, data any) string {
	var b bytes.Buffer
	if err := t.Execute(&b, data); err != nil {
		// The templates are constants exercised by tests; failing here is a programming error.
		panic(err)
	}
	return b.String()
}
