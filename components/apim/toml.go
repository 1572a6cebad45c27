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
		return tomlString(fmt.Sprintf("jdbc:mysql://%s:%d/%s?%s", d.Host, d.Port, name, strings.Join(jdbcParams, "&amp;")))
	},
}

// jdbcParams: no TLS inside the cluster network (MySQL is reachable from API Manager pods only,
// by NetworkPolicy); the public key retrieval that MySQL 8's caching_sha2_password needs
// without TLS; reconnects after a MySQL restart.
var jdbcParams = []string{"useSSL=false", "allowPublicKeyRetrieval=true", "autoReconnect=true"}

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
url = {{jdbc $.Database .}}
username = {{str $.Database.Username}}
password = "$env{WSO2_DB_PASSWORD}"
driver = "com.mysql.cj.jdbc.Driver"

# validationQuery is WSO2's default ("SELECT 1"); setting it here would write it twice.
[database.{{.}}.pool_options]
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
type = {{str .Analytics.Type}}
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
http_endpoint = {{str (print "http://" .GatewayHostname)}}
https_endpoint = {{str (print "https://" .GatewayHostname)}}
ws_endpoint = {{str .WSEndpoint}}
wss_endpoint = {{str .WSSEndpoint}}
websub_event_receiver_http_endpoint = {{str .WebSubHTTPEndpoint}}
websub_event_receiver_https_endpoint = {{str .WebSubHTTPSEndpoint}}

[apim.sync_runtime_artifacts.gateway]
gateway_labels = ["Default"]

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
url = {{str (print "https://" .ManagementHostname "/devportal")}}

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
