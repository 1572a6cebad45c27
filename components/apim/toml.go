package apim

import (
	"bytes"
	"fmt"
	"strings"
	"text/template"
)

// Passwords and keys never appear in deployment.toml: it reads them from the environment
// ($env{...}), which the pods fill from Secrets. So the rendered file is plain data, safe in
// a ConfigMap and in Pulumi state, and its checksum is known at plan time.
//
// WSO2's config mapper copies values verbatim into XML files (master-datasources.xml,
// api-manager.xml, ...), so a value that lands in XML must already be XML-escaped: the JDBC
// URLs join their parameters with "&amp;", as WSO2's own examples do. tests/fidelity checks
// every rendered file against the keys WSO2 4.7.0 reads.

var funcs = template.FuncMap{
	// str renders a TOML basic string: quotes and backslashes escaped, control characters
	// refused upstream by validation.
	"str": tomlString,
	// jdbc renders a MySQL JDBC URL for a database, its parameters XML-escaped.
	"jdbc": func(d Database, name string) string {
		params := append([]string{"sslMode=" + d.SSLMode}, jdbcParams...)
		return tomlString(fmt.Sprintf("jdbc:mysql://%s:%d/%s?%s", d.Host, d.Port, name, strings.Join(params, "&amp;")))
	},
	"stores": func() map[string]string { return StoreFiles },
	"list":   func(v ...string) []string { return v },
}

// jdbcParams follow the sslMode: reconnects after a database restart. Over TLS, MySQL 8's
// caching_sha2_password needs no public key retrieval, so it stays off (it would let a
// server in the middle ask for the password in a form it can read).
var jdbcParams = []string{"autoReconnect=true"}

func tomlString(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`, "\t", `\t`, "\r", `\r`)
	return `"` + r.Replace(s) + `"`
}

const common = `{{define "common"}}
[super_admin]
username = {{str .AdminUsername}}
password = "$env{WSO2_ADMIN_PASSWORD}"
create_admin_account = true

[user_store]
type = "database_unique_id"
{{range .Databases}}
[database.{{.}}]
# type is what WSO2's infer.json keys the datasource's validationQuery ("SELECT 1") on.
type = "mysql"
url = {{jdbc $.Database .}}
username = {{str $.Database.Username}}
password = "$env{WSO2_DB_PASSWORD}"
driver = "com.mysql.cj.jdbc.Driver"

[database.{{.}}.pool_options]
testOnBorrow = true
maxActive = 100
maxWait = 60000
minIdle = 5
{{end}}
[transport.http]
properties.port = 9763
properties.proxyPort = 80

# TLS 1.2 and 1.3 only (WSO2's default also offers 1.0 and 1.1), and no product name in the
# Server header: WSO2's production security guidelines.
[transport.https]
properties.port = 9443
properties.proxyPort = 443
properties.server = "apim"

[transport.https.sslHostConfig.properties]
protocols = "+TLSv1.2,+TLSv1.3"

# The gateway's HTTPS (8243) and secure WebSocket (8099) listeners, likewise.
[transport.passthru_https.listener.parameters]
HttpsProtocols = "TLSv1.2,TLSv1.3"

[apim.wss]
ssl_enabled_protocols = "TLSv1.2,TLSv1.3"

[encryption]
internal_crypto_provider = "org.wso2.carbon.crypto.provider.SymmetricKeyInternalCryptoProvider"
key = "$env{WSO2_ENCRYPTION_KEY}"

# The deployment's own keys (package keystores), never the images' shipped ones: primary signs
# tokens, tls serves every listener (WSO2's defaults derive the 8243, 8099, broker and sender
# stores from it), internal is WSO2's keystore-based encryption key. One password, from the
# keystore Secret. The truststore is the JDK's public CAs and the deployment's CA.
{{- $s := stores}}
{{- range $name := list "primary" "tls" "internal"}}

[keystore.{{$name}}]
file_name = {{str (index $s $name)}}
type = "PKCS12"
alias = {{str $name}}
password = "$env{WSO2_KEYSTORE_PASSWORD}"
key_password = "$env{WSO2_KEYSTORE_PASSWORD}"
{{- end}}

[truststore]
file_name = {{str (index $s "truststore")}}
type = "PKCS12"
password = "$env{WSO2_KEYSTORE_PASSWORD}"

# WSO2's 4.7 default turns on the AI features with no key; helm-apim renders them off unless
# configured, and so does this.
[apim.ai]
enable = false

# The headers API consumers send: API keys and the gateway's internal key among them.
[apim.cors]
allow_origins = "*"
allow_methods = ["GET", "PUT", "POST", "DELETE", "PATCH", "OPTIONS"]
allow_headers = ["authorization", "Access-Control-Allow-Origin", "Content-Type", "SOAPAction", "apikey", "Internal-Key"]
allow_credentials = false

[apim.analytics]
{{- if eq .Analytics.Type ""}}
enable = false
type = "moesif"
{{- else}}
enable = true
type = {{str (printf "%s" .Analytics.Type)}}
{{- end}}
{{- if eq .Analytics.Type "moesif"}}

[apim.analytics.properties]
moesifKey = "$env{WSO2_MOESIF_KEY}"
{{- end}}
{{end}}`

var controlPlaneTOML = template.Must(template.New("cp").Funcs(funcs).Parse(common + `[server]
hostname = {{str .ManagementHostname}}
node_ip = "$env{NODE_IP}"
mode = "single"
base_path = "${carbon.protocol}://${carbon.host}:${carbon.management.port}"
server_role = "default"
{{template "common" .}}
[service_provider]
sp_name_regex = "^[\\sa-zA-Z0-9._-]*$"

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
http_endpoint = {{str .HTTPEndpoint}}
https_endpoint = {{str .HTTPSEndpoint}}
ws_endpoint = {{str .WSEndpoint}}
wss_endpoint = {{str .WSSEndpoint}}
websub_event_receiver_http_endpoint = {{str .WebSubHTTPEndpoint}}
websub_event_receiver_https_endpoint = {{str .WebSubHTTPSEndpoint}}

[apim.sync_runtime_artifacts.gateway]
gateway_labels = ["Default"]
{{- if gt (len .Peers) 0}}

# Active-active (WSO2 4.7, "Configuring an Active-Active Deployment"): this node forwards the
# throttling events it receives to the other nodes' brokers, decides from its own, and every
# node's traffic manager gets every event.
[apim.throttling]
event_duplicate_url = [{{range $i, $h := .Peers}}{{if $i}}, {{end}}{{str (print "tcp://" $h ":5672")}}{{end}}]
throttle_decision_endpoints = ["tcp://localhost:5672"]
{{range .Nodes}}
[[apim.throttling.url_group]]
traffic_manager_urls = [{{str (print "tcp://" . ":9611")}}]
traffic_manager_auth_urls = [{{str (print "ssl://" . ":9711")}}]
type = "loadbalance"
{{end}}
{{- end}}

[apim.key_manager]
service_url = "https://{{.Name}}:${mgt.transport.https.port}/services/"
username = "$ref{super_admin.username}"
password = "$ref{super_admin.password}"

[oauth.endpoints]
oauth2_jwks_url = "https://{{.Name}}:9443/oauth2/jwks"

# Self-contained JWT access tokens that are not persisted (WSO2's 4.7.0 default): the
# gateways validate them on their own, and the database does not grow with every token.
[[oauth.extensions.token_types]]
name = "JWT"
issuer = "org.wso2.is.key.manager.tokenpersistence.issuer.ExtendedJWTTokenIssuer"

[oauth.token_persistence]
enable = false

[apim.devportal]
url = {{str (print .EdgeScheme "://" .ManagementHostname "/devportal")}}

# Developers who sign themselves up in the developer portal get the subscriber role.
[[event_handler]]
name = "userPostSelfRegistration"
subscriptions = ["POST_ADD_USER"]

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
hostname = {{str .GatewayHostname}}
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

# Every control plane node, by its own name: the gateway listens for events and throttling
# decisions on each node's broker (failing over between them) and publishes every throttling
# event to each node's traffic manager, so it keeps working while a node is away.
[apim.event_hub]
enable = true
username = "$ref{super_admin.username}"
password = "$ref{super_admin.password}"
service_url = "https://{{.ControlPlaneService}}:9443/services/"
event_listening_endpoints = [{{range $i, $h := .Nodes}}{{if $i}}, {{end}}{{str (print "tcp://" $h ":5672")}}{{end}}]

[apim.throttling]
username = "$ref{super_admin.username}"
password = "$ref{super_admin.password}"
service_url = "https://{{.ControlPlaneService}}:9443/services/"
throttle_decision_endpoints = [{{range $i, $h := .Nodes}}{{if $i}}, {{end}}{{str (print "tcp://" $h ":5672")}}{{end}}]
{{range .Nodes}}
[[apim.throttling.url_group]]
traffic_manager_urls = [{{str (print "tcp://" . ":9611")}}]
traffic_manager_auth_urls = [{{str (print "ssl://" . ":9711")}}]
type = "loadbalance"
{{end}}`))

// RenderControlPlaneTOML renders node's deployment.toml (0 to Replicas-1) from defaulted args:
// the nodes differ only in which others they forward events to.
func RenderControlPlaneTOML(a ControlPlaneArgs, node int) string {
	nodes := NodeHosts(a.Name, a.Replicas)
	var peers []string
	if a.Replicas > 1 {
		peers = append(append(peers, nodes[:node]...), nodes[node+1:]...)
	}
	return render(controlPlaneTOML, struct {
		ControlPlaneArgs
		Databases    []string
		Nodes, Peers []string
	}{a, DatabasesOf(ComponentControlPlane), nodes, peers})
}

// RenderControlPlaneTOMLs renders every node's deployment.toml, node 0 first.
func RenderControlPlaneTOMLs(a ControlPlaneArgs) []string {
	var out []string
	for i := range a.Replicas {
		out = append(out, RenderControlPlaneTOML(a, i))
	}
	return out
}

// RenderGatewayTOML renders the gateway's deployment.toml from defaulted args. The gateway
// only needs shared_db (users and tenants); APIs come from the control plane.
func RenderGatewayTOML(a GatewayArgs) string {
	return render(gatewayTOML, struct {
		GatewayArgs
		Databases []string
		Nodes     []string
	}{a, DatabasesOf(ComponentGateway), NodeHosts(a.ControlPlaneService, a.ControlPlaneReplicas)})
}

func render(t *template.Template, data any) string {
	var b bytes.Buffer
	if err := t.Execute(&b, data); err != nil {
		// The templates are constants exercised by tests; failing here is a programming error.
		panic(err)
	}
	return b.String()
}
