package fidelity

import "testing"

func TestImageFacts(t *testing.T) {
	for _, img := range []string{"wso2/wso2am:4.7.0", "docker.io/wso2/wso2am:4.7.0-alpine", "wso2am:4.7.0-rocky"} {
		f, ok := ImageFacts(img)
		if !ok {
			t.Fatalf("no facts for %s", img)
		}
		if f.UID != 10001 || f.GID != 10001 || f.ServerHome != "/home/wso2carbon/wso2am-4.7.0" {
			t.Errorf("%s: uid %d gid %d home %s", img, f.UID, f.GID, f.ServerHome)
		}
		if f.Sources["serverHome"].Commit == "" {
			t.Errorf("%s: no source commit for serverHome", img)
		}
	}
	gw, ok := ImageFacts("wso2/wso2am-universal-gw:4.7.0")
	if !ok || gw.ServerHome != "/home/wso2carbon/wso2am-universal-gw-4.7.0" {
		t.Fatalf("universal gateway facts: %v %+v", ok, gw.ServerHome)
	}
	if _, ok := ImageFacts("wso2/wso2am:9.9.9"); ok {
		t.Error("facts for an unknown version")
	}
	if _, ok := ImageFacts("wso2/wso2am-tm:4.7.0"); ok {
		t.Error("facts for an image not in the data")
	}
}

func TestImageChecks(t *testing.T) {
	aio, _ := ImageFacts("wso2/wso2am:4.7.0")
	gw, _ := ImageFacts("wso2/wso2am-universal-gw:4.7.0")
	if p := aio.CheckPorts(9443, 9763, 8243, 8280, 5672, 9611, 9711, 9099); len(p) != 0 {
		t.Errorf("all-in-one ports: %v", p)
	}
	if p := aio.CheckPorts(12345); len(p) != 1 {
		t.Error("an unknown port must be flagged")
	}
	if p := gw.CheckPorts(8099, 9021, 8021); len(p) != 0 {
		t.Errorf("gateway websocket/websub ports: %v", p)
	}
	if p := aio.CheckHTTPProbe("readiness", "/api/am/gateway/v2/server-startup-healthcheck", 9443, "HTTPS"); len(p) != 0 {
		t.Error(p)
	}
	if p := aio.CheckHTTPProbe("liveness", "/services/Version", 9763, ""); len(p) != 0 {
		t.Error(p)
	}
	if p := aio.CheckHTTPProbe("readiness", "/services/Version", 9443, "HTTP"); len(p) == 0 {
		t.Error("a readiness probe on the wrong path/scheme must be flagged")
	}
	if p := aio.CheckExecProbe([]string{"nc", "-z", "localhost", "9443"}); len(p) == 0 {
		t.Error("nc is purged from the ubuntu image")
	}
	rocky, _ := ImageFacts("wso2/wso2am:4.7.0-rocky")
	if p := rocky.CheckExecProbe([]string{"nc", "-z", "localhost", "9443"}); len(p) != 0 {
		t.Errorf("the rocky image keeps nc: %v", p)
	}
	if p := aio.CheckUser(10001, 10001); len(p) != 0 {
		t.Error(p)
	}
	if p := aio.CheckUser(1000, 10001); len(p) != 1 {
		t.Error("wrong uid must be flagged")
	}
	if !aio.IsJDBCDriverDir("/home/wso2carbon/wso2am-4.7.0/repository/components/lib") ||
		!aio.IsJDBCDriverDir("/home/wso2carbon/wso2-config-volume/repository/components/dropins/") ||
		aio.IsJDBCDriverDir("/home/wso2carbon/wso2am-4.7.0/lib") {
		t.Error("JDBC driver directories")
	}
	if p := aio.CheckPathUnderHome("/home/wso2carbon/wso2-config-volume/repository/conf/deployment.toml"); len(p) != 0 {
		t.Error(p)
	}
	if p := gw.CheckPathUnderHome("/home/wso2carbon/wso2am-4.7.0/repository/conf/deployment.toml"); len(p) != 1 {
		t.Error("the all-in-one home is not the gateway's")
	}
}
