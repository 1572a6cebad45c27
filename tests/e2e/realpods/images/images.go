// Package images builds the real-pods tier's container images without a registry or Docker:
// one layer holding the stand-in binary, a static busybox and the files the product's pods
// look for, and one image config per role, written as a docker-archive tarball that
// `ctr -n k8s.io images import` loads into containerd.
package images

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path"
	"sort"
	"strings"
	"time"
)

// Repository is the image name prefix of every stand-in. Kubernetes normalises it to
// docker.io/wso2-standin/...; nothing is ever pulled (the images are imported beforehand).
const Repository = "wso2-standin"

// ServerHome is the stand-in's API Manager server home: the MySQL schema init container finds
// dbscripts/ under /home/wso2carbon/wso2am-* as in WSO2's image.
const ServerHome = "/home/wso2carbon/wso2am-standin"

// Image is one image: a reference and its config; every image shares the one layer.
type Image struct {
	Ref        string
	Entrypoint []string
	Cmd        []string
	User       string
}

// Spec is what the tier needs of the images it builds.
type Spec struct {
	// Standin and Busybox are paths of static binaries on this machine.
	Standin, Busybox string
	// GatewayVersions are the tags of the API Manager stand-in to build (v1, v2, ...); each
	// reports its tag, so a rollout to a new tag is a real image change.
	APIMVersions []string
	// APIMArgs are extra flags of the API Manager stand-in (start-up and readiness delays).
	APIMArgs []string
	// BackendVersions are the tags of the backend stand-in.
	BackendVersions []string
}

// Ref names a stand-in image, e.g. Ref("apim", "v1") = "wso2-standin/apim:v1".
func Ref(role, tag string) string { return fmt.Sprintf("%s/%s:%s", Repository, role, tag) }

// Images lists the images of spec: pause (the pod sandbox), busybox (the JDBC driver
// download), mysql, and each version of apim and backend.
func (s Spec) Images() []Image {
	out := []Image{
		{Ref: Ref("pause", "1"), Entrypoint: []string{"/standin", "pause"}, User: "65535"},
		{Ref: Ref("busybox", "1"), Cmd: []string{"sh"}},
		{Ref: Ref("mysql", "1"), Entrypoint: []string{"/standin", "mysql"}, User: "999"},
	}
	for _, v := range s.APIMVersions {
		out = append(out, Image{Ref: Ref("apim", v), Entrypoint: []string{"/standin", "apim"},
			Cmd: append([]string{"-version=" + v}, s.APIMArgs...), User: "10001"})
	}
	for _, v := range s.BackendVersions {
		out = append(out, Image{Ref: Ref("backend", v), Entrypoint: []string{"/standin", "backend"},
			Cmd: []string{"-listen=:9090", "-text=Hello Kubernetes!!! (" + v + ")"}, User: "65532"})
	}
	return out
}

// Write builds every image of spec into one docker-archive tarball at out (the format
// `docker save` writes and `ctr images import` reads): one uncompressed layer shared by all
// images, one config per image, and manifest.json naming each image's tag. Written by hand
// rather than with go-containerregistry, which would raise versions in the product's module
// graph for a test-only need.
func Write(spec Spec, out string) error {
	layer, err := rootfs(spec)
	if err != nil {
		return err
	}
	layerDigest := fmt.Sprintf("%x", sha256.Sum256(layer))
	layerPath := layerDigest + "/layer.tar"
	f, err := os.Create(out)
	if err != nil {
		return err
	}
	defer f.Close()
	tw := tar.NewWriter(f)
	add := func(name string, data []byte) error {
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: 0o644, Size: int64(len(data)), ModTime: time.Unix(0, 0)}); err != nil {
			return err
		}
		_, err := tw.Write(data)
		return err
	}
	if err := add(layerPath, layer); err != nil {
		return err
	}
	type manifestEntry struct {
		Config   string
		RepoTags []string
		Layers   []string
	}
	var manifest []manifestEntry
	for _, im := range spec.Images() {
		cfg, err := json.Marshal(map[string]any{
			"architecture": "amd64",
			"os":           "linux",
			"created":      "1970-01-01T00:00:00Z",
			"config": map[string]any{
				"Entrypoint": im.Entrypoint,
				"Cmd":        im.Cmd,
				"User":       im.User,
				"Env":        []string{"PATH=/usr/local/bin:/usr/bin:/bin"},
				"WorkingDir": "/",
				"Labels":     map[string]string{"org.opencontainers.image.ref.name": im.Ref},
			},
			"rootfs": map[string]any{"type": "layers", "diff_ids": []string{"sha256:" + layerDigest}},
		})
		if err != nil {
			return err
		}
		cfgName := fmt.Sprintf("%x.json", sha256.Sum256(cfg))
		if err := add(cfgName, cfg); err != nil {
			return err
		}
		manifest = append(manifest, manifestEntry{Config: cfgName, RepoTags: []string{im.Ref}, Layers: []string{layerPath}})
	}
	m, err := json.Marshal(manifest)
	if err != nil {
		return err
	}
	if err := add("manifest.json", m); err != nil {
		return err
	}
	if err := tw.Close(); err != nil {
		return err
	}
	return f.Close()
}

// rootfs is the shared layer: /standin, busybox and its applets in /bin, mysqladmin, the
// server home with its dbscripts, /tmp and an /etc/passwd naming the users the pods run as.
func rootfs(spec Spec) ([]byte, error) {
	applets, err := exec.Command(spec.Busybox, "--list").Output()
	if err != nil {
		return nil, fmt.Errorf("%s --list: %w", spec.Busybox, err)
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	epoch := time.Unix(0, 0)
	dir := func(p string, mode int64, uid int) error {
		return tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: p + "/", Mode: mode, Uid: uid, Gid: uid, ModTime: epoch})
	}
	file := func(p string, mode int64, data []byte) error {
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: p, Mode: mode, Size: int64(len(data)), ModTime: epoch}); err != nil {
			return err
		}
		_, err := tw.Write(data)
		return err
	}
	link := func(p, target string) error {
		return tw.WriteHeader(&tar.Header{Typeflag: tar.TypeSymlink, Name: p, Linkname: target, Mode: 0o777, ModTime: epoch})
	}
	for _, d := range []string{"bin", "etc", "usr", "usr/bin", "home", "var", "proc", "sys", "dev"} {
		if err := dir(d, 0o755, 0); err != nil {
			return nil, err
		}
	}
	if err := dir("tmp", 0o1777, 0); err != nil {
		return nil, err
	}
	standin, err := os.ReadFile(spec.Standin)
	if err != nil {
		return nil, err
	}
	bb, err := os.ReadFile(spec.Busybox)
	if err != nil {
		return nil, err
	}
	if err := file("standin", 0o755, standin); err != nil {
		return nil, err
	}
	if err := file("bin/busybox", 0o755, bb); err != nil {
		return nil, err
	}
	seen := map[string]bool{"busybox": true}
	names := strings.Fields(string(applets))
	sort.Strings(names)
	for _, a := range names {
		if a = path.Base(a); !seen[a] {
			seen[a] = true
			if err := link("bin/"+a, "busybox"); err != nil {
				return nil, err
			}
		}
	}
	if err := link("usr/bin/mysqladmin", "/standin"); err != nil {
		return nil, err
	}
	if err := file("etc/passwd", 0o644, []byte("root:x:0:0:root:/root:/bin/sh\nmysql:x:999:999::/var/lib/mysql:/bin/false\n"+
		"wso2carbon:x:10001:10001::/home/wso2carbon:/bin/sh\nnonroot:x:65532:65532::/home/nonroot:/bin/false\n")); err != nil {
		return nil, err
	}
	if err := file("etc/group", 0o644, []byte("root:x:0:\nmysql:x:999:\nwso2carbon:x:10001:\nnonroot:x:65532:\n")); err != nil {
		return nil, err
	}
	home := strings.TrimPrefix(ServerHome, "/")
	for _, d := range []string{"home/wso2carbon", home, home + "/dbscripts", home + "/dbscripts/apimgt"} {
		if err := dir(d, 0o755, 10001); err != nil {
			return nil, err
		}
	}
	if err := file(home+"/dbscripts/mysql.sql", 0o644, []byte("-- shared_db schema stand-in\n")); err != nil {
		return nil, err
	}
	if err := file(home+"/dbscripts/apimgt/mysql.sql", 0o644, []byte("-- apim_db schema stand-in\n")); err != nil {
		return nil, err
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
