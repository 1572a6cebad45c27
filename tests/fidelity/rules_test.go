package fidelity

import (
	"strings"
	"testing"
)

// A deployment.toml in WSO2's own style (keys and escaping as in product-apim v4.7.0's shipped
// all-in-one file and wso2/docker-apim's 4.7 docker-compose files).
const wso2Style = `
[server]
hostname = "am.example.com"
node_ip = "127.0.0.1"
server_role = "default"

[super_admin]
username = "admin"
password = "$env{ADMIN_PASSWORD}"
create_admin_account = true

[user_store]
type = "database_unique_id"

[database.apim_db]
type = "mysql"
url = "jdbc:mysql://mysql:3306/WSO2AM_DB?autoReconnect=true&amp;allowPublicKeyRetrieval=true&amp;useSSL=false"
username = "wso2carbon"
password = "$env{DB_PASSWORD}"
driver = "com.mysql.cj.jdbc.Driver"
validationQuery = "SELECT 1"

[database.apim_db.pool_options]
maxActive = 100
testOnBorrow = true

[database.shared_db]
type = "mysql"
url = "jdbc:mysql://mysql:3306/WSO2AM_SHARED_DB?autoReconnect=true&amp;useSSL=false"
username = "wso2carbon"
password = "$env{DB_PASSWORD}"
driver = "com.mysql.cj.jdbc.Driver"

[transport.https.properties]
proxyPort = 443

[[apim.gateway.environment]]
name = "Default"
type = "hybrid"
ws_endpoint = "ws://gw.example.com:9099"
wss_endpoint = "wss://gw.example.com:8099"
websub_event_receiver_http_endpoint = "http://gw.example.com:9021"
websub_event_receiver_https_endpoint = "https://gw.example.com:8021"

[[oauth.extensions.token_types]]
name = "JWT"
issuer = "org.wso2.is.key.manager.tokenpersistence.issuer.ExtendedJWTTokenIssuer"

[apim.cors]
allow_origins = "*"
allow_headers = ["authorization","Access-Control-Allow-Origin","Content-Type","SOAPAction","apikey","Internal-Key"]

[apim.analytics]
enable = false
type = "moesif"

[[event_handler]]
name = "userPostSelfRegistration"
subscriptions = ["POST_ADD_USER"]

[service_provider]
sp_name_regex = "^[\\sa-zA-Z0-9._-]*$"

[[event_listener]]
id = "token_revocation"
type = "org.wso2.carbon.identity.core.handler.AbstractIdentityHandler"
name = "org.wso2.is.notification.ApimOauthEventInterceptor"
order = 1

[event_listener.properties]
notification_endpoint = "https://localhost:9443/internal/data/v1/notify"
'header.X-WSO2-KEY-MANAGER' = "default"

[secrets]
admin_password = "[secret]"
`

func load(t *testing.T, dist string) *Rules {
	t.Helper()
	r, err := Load("4.7.0", dist)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func kinds(fs []Finding) map[string][]string {
	out := map[string][]string{}
	for _, f := range fs {
		out[f.Kind] = append(out[f.Kind], f.Key)
	}
	return out
}

func TestKeyListsCarryProvenance(t *testing.T) {
	for _, d := range []string{AllInOne, UniversalGW} {
		r := load(t, d)
		h := strings.Join(r.Header, "\n")
		for _, want := range []string{"wso2/product-apim v4.7.0 53b83f28bf0d6222fd6aa67fa344ae3932d42476", "wso2/carbon-kernel v4.11.18", "wso2/carbon-apimgt v9.33.122", "required = set in WSO2's shipped deployment.toml"} {
			if !strings.Contains(h, want) {
				t.Errorf("%s header lacks %q", d, want)
			}
		}
		if len(r.Keys) < 1000 {
			t.Errorf("%s: only %d keys", d, len(r.Keys))
		}
	}
}

func TestWSO2StyleRenderIsAccepted(t *testing.T) {
	r := load(t, AllInOne)
	if fs := r.CheckTOML(wso2Style); len(fs) != 0 {
		t.Fatalf("WSO2-style file flagged: %v", fs)
	}
}

func TestBareAmpersandInJDBCURLIsFlagged(t *testing.T) {
	r := load(t, AllInOne)
	broken := strings.Replace(wso2Style, "autoReconnect=true&amp;allowPublicKeyRetrieval=true&amp;useSSL=false", "autoReconnect=true&allowPublicKeyRetrieval=true&useSSL=false", 1)
	fs := r.CheckTOML(broken)
	got := kinds(fs)
	if len(got["xml-escape"]) != 1 || got["xml-escape"][0] != "database.apim_db.url" {
		t.Fatalf("want one xml-escape finding on database.apim_db.url, got %v", fs)
	}
	if len(fs) != 1 {
		t.Fatalf("unexpected extra findings: %v", fs)
	}
}

func TestUnknownKeysAreFlagged(t *testing.T) {
	r := load(t, AllInOne)
	broken := wso2Style + `
[apim.gateway.environment.extra]
nonsense = 1

[database.apim_db.pool_opts]
maxActive = 5
`
	broken = strings.Replace(broken, `ws_endpoint = "ws://gw.example.com:9099"`, "ws_endpoint = \"ws://gw.example.com:9099\"\nws_url = \"ws://x\"", 1)
	got := kinds(r.CheckTOML(broken))
	want := []string{"apim.gateway.environment[].ws_url", "database.apim_db.pool_opts.maxActive"}
	for _, k := range want {
		found := false
		for _, g := range got["unread"] {
			if g == k {
				found = true
			}
		}
		if !found {
			t.Errorf("unknown key %s not flagged; unread = %v", k, got["unread"])
		}
	}
}

func TestMissingRequiredKeyIsFlagged(t *testing.T) {
	r := load(t, AllInOne)
	broken := strings.Replace(wso2Style, `hostname = "am.example.com"`, "", 1)
	got := kinds(r.CheckTOML(broken))
	if len(got["required"]) != 1 || got["required"][0] != "server.hostname" {
		t.Fatalf("want server.hostname required, got %v", got)
	}
}

func TestWildcardsAndArrays(t *testing.T) {
	r := load(t, AllInOne)
	for _, k := range []string{
		"transport.https.properties.proxyPort",
		"database.apim_db.pool_options.maxActive",
		"apim.gateway.environment[].name",
		"event_handler[].properties.enable",
		"event_listener[].properties.'header.X-WSO2-KEY-MANAGER'",
		"secrets.anything",
	} {
		if !r.Reads(k) {
			t.Errorf("%s should be read", k)
		}
	}
	for _, k := range []string{"apim.gateway.environment.name", "database.apim_db.pool_option.maxActive", "nonexistent.key"} {
		if r.Reads(k) {
			t.Errorf("%s should not be read", k)
		}
	}
	if ki, _ := r.Lookup("database.apim_db.url"); !ki.XML {
		t.Error("database.apim_db.url lands in master-datasources.xml")
	}
	if ki, _ := r.Lookup("event_handler[].name"); ki.XML {
		t.Error("event_handler[].name lands in identity-event.properties, not XML")
	}
}

func TestGatewayDiffersFromAllInOne(t *testing.T) {
	gw := load(t, UniversalGW)
	req := strings.Join(gw.Required(), " ")
	if strings.Contains(req, "database.shared_db.url") {
		t.Errorf("the universal gateway's shipped file sets no shared_db, so it is not required: %s", req)
	}
	if !gw.Reads("apim.event_hub.event_listening_endpoints") {
		t.Error("gateway reads apim.event_hub.event_listening_endpoints")
	}
}

func TestXMLProblem(t *testing.T) {
	for s, bad := range map[string]bool{
		"a&amp;b": false, "a&#38;b": false, "a&#x26;b": false, "plain": false,
		"a&b": true, "a & b": true, "a<b": true, "a>b": true, "&amp": true,
	} {
		if (XMLProblem(s) != "") != bad {
			t.Errorf("XMLProblem(%q) = %q", s, XMLProblem(s))
		}
	}
}

func TestFlatten(t *testing.T) {
	flat, err := Flatten(`
[a]
b.c = 1
'd.e' = "x"
[[f.g]]
h = [1, 2]
[[f.g]]
h = [3]
`)
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Join(SortedKeys(flat), " ")
	if got != "a.'d.e' a.b.c f.g[].h" {
		t.Fatalf("got %s", got)
	}
	if len(flat["f.g[].h"]) != 2 {
		t.Fatalf("want one value per array element, got %v", flat["f.g[].h"])
	}
}
