package fidelity

import (
	"strings"
	"testing"
)

// A small mapper with rules shaped like carbon-kernel's infer.json (v4.11.18) and
// product-apim's, to pin the config mapper's semantics.
func testMapper() *Mapper {
	m := &Mapper{Mappings: map[string][]string{"old.key": {"new.key"}}, Defaults: map[string]KeyValue{
		"database.local.validationQuery": {Value: "SELECT 1"},
		"user_store.type":                {Value: "database_unique_id"},
	}}
	for _, kv := range []KeyValue{{Key: "database.$1.driver", Value: "com.mysql.jdbc.Driver"}, {Key: "database.$1.validationQuery", Value: "SELECT 1"},
		{Key: "database.$1.url", Value: "jdbc:mysql://$ref{database.$1.hostname}/$ref{database.$1.name}"}} {
		m.AddRule("database.$1.type", "mysql", kv, "kernel")
	}
	m.AddRule("user_store.type", "database_unique_id", KeyValue{Key: "user_store.class", Value: "UniqueIDJDBCUserStoreManager"}, "kernel")
	m.AddRule("new.key", "on", KeyValue{Key: "chained.mode", Value: "deep"}, "test")
	m.AddRule("chained.mode", "deep", KeyValue{Key: "chained.depth", Value: 2.0}, "test")
	return m
}

func effective(t *testing.T, m *Mapper, doc string) map[string]any {
	t.Helper()
	eff, err := m.Effective(doc)
	if err != nil {
		t.Fatal(err)
	}
	return eff
}

func TestEffectiveBindsDollarPatterns(t *testing.T) {
	m := testMapper()
	eff := effective(t, m, "[database.shared_db]\ntype = \"mysql\"\ndriver = \"com.mysql.cj.jdbc.Driver\"\n[database.apim_db]\nurl = \"x\"\n")
	if eff["database.shared_db.validationQuery"] != "SELECT 1" {
		t.Errorf("$1 bound to shared_db: %v", eff)
	}
	if eff["database.shared_db.driver"] != "com.mysql.cj.jdbc.Driver" {
		t.Errorf("an explicit key wins over the inferred one: %v", eff["database.shared_db.driver"])
	}
	if got := eff["database.shared_db.url"]; got != "jdbc:mysql://$ref{database.shared_db.hostname}/$ref{database.shared_db.name}" {
		t.Errorf("$1 is replaced in string values too: %v", got)
	}
	if _, ok := eff["database.apim_db.validationQuery"]; ok {
		t.Errorf("apim_db has no type: nothing inferred")
	}
}

func TestEffectiveFollowsTheMappersMatching(t *testing.T) {
	m := testMapper()
	for doc, why := range map[string]string{
		"[database.shared-db]\ntype = \"mysql\"\n":   `\w+ does not match a name with "-"`,
		"[database.shared_db]\ntype = \"MySQL\"\n":   "values are matched case-sensitively",
		"[database.mb.store_db]\ntype = \"mysql\"\n": "$1 is one segment",
	} {
		for k := range effective(t, m, doc) {
			if strings.HasSuffix(k, ".validationQuery") && k != "database.local.validationQuery" {
				t.Errorf("%s: inferred %s", why, k)
			}
		}
	}
	if eff := effective(t, m, ""); eff["user_store.class"] != nil {
		t.Errorf("a default never triggers a rule (the mapper infers before it adds defaults): %v", eff["user_store.class"])
	}
	if eff := effective(t, m, "[old]\nkey = \"on\"\n"); eff["chained.mode"] != "deep" || eff["chained.depth"] != 2.0 {
		t.Errorf("key mappings apply before inference and inferred values chain: %v", eff)
	}
	if eff := effective(t, m, ""); eff["database.local.validationQuery"] != "SELECT 1" {
		t.Errorf("defaults fill absent keys")
	}
}

func TestMatchPattern(t *testing.T) {
	b, ok := MatchPattern("database.$1.type", "database.shared_db.type")
	if !ok || b["$1"] != "shared_db" {
		t.Fatalf("got %v %v", b, ok)
	}
	if Bind("database.$1.validationQuery", b) != "database.shared_db.validationQuery" {
		t.Fatal("bind")
	}
	for _, k := range []string{"database.a-b.type", "database.a.b.type", "database.x.types"} {
		if _, ok := MatchPattern("database.$1.type", k); ok {
			t.Errorf("%s should not match", k)
		}
	}
}

func TestMapperDataOf470(t *testing.T) {
	for _, d := range []string{AllInOne, UniversalGW} {
		m, err := LoadMapper("4.7.0", d)
		if err != nil {
			t.Fatal(err)
		}
		h := strings.Join(m.Header, "\n")
		for _, want := range []string{"wso2/carbon-kernel v4.11.18 ee2a5064a8d907f6e5bddddc3f0880a80fac8f87", "wso2/product-apim v4.7.0 53b83f28bf0d6222fd6aa67fa344ae3932d42476"} {
			if !strings.Contains(h, want) {
				t.Errorf("%s: header lacks %q", d, want)
			}
		}
		if vals := strings.Join(m.CondValues("database.$1.type"), ","); vals != "db2,h2,mariadb,mssql,mysql,oracle,postgre" {
			t.Errorf("%s: database.$1.type values %s", d, vals)
		}
		setters := m.SettersOf("database.shared_db.validationQuery")
		if len(setters) != 1 || setters[0].Cond != "database.shared_db.type" || !strings.Contains(setters[0].Rule.Origin, "wso2/carbon-kernel:distribution/kernel/carbon-home/repository/resources/conf/infer.json") {
			t.Errorf("%s: setters of shared_db.validationQuery: %+v", d, setters)
		}
	}
	aio, _ := LoadMapper("4.7.0", AllInOne)
	gw, _ := LoadMapper("4.7.0", UniversalGW)
	if _, ok := aio.Defaults["database.shared_db.validationQuery"]; ok {
		t.Error("the all-in-one has no default validationQuery for shared_db (its default.json at v4.7.0 has none)")
	}
	if gw.Defaults["database.shared_db.validationQuery"].Value != "SELECT 1" {
		t.Error("the universal gateway's default.json sets shared_db's validationQuery")
	}
	// the product's base default.json wins over the fragments it includes
	if aio.Defaults["encryption.internal_crypto_provider"].Value != "org.wso2.carbon.crypto.provider.SymmetricKeyInternalCryptoProvider" {
		t.Errorf("base file must win: %v", aio.Defaults["encryption.internal_crypto_provider"])
	}
}

func TestKeyListsCoverInferPatterns(t *testing.T) {
	r := load(t, AllInOne)
	for _, k := range []string{"database.shared_db.type", "database.apim_db.type", "database.anything.type"} {
		if !r.Reads(k) {
			t.Errorf("%s is read (infer.json database.$1.type)", k)
		}
	}
	if r.Reads("database.my-db.type") {
		t.Error(`database.my-db.type: the mapper's \w+ does not match it`)
	}
	ki, _ := r.Lookup("database.shared_db.validationQuery")
	if !ki.Inferred || !ki.Template {
		t.Errorf("database.shared_db.validationQuery: %+v", ki)
	}
	for _, line := range r.Header {
		if strings.Contains(line, "no template/json reads: database.") {
			t.Errorf("stale warning: %s", line)
		}
	}
}
