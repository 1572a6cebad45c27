// Package images builds the real-pods tier's container images without a registry or Docker,
// written as a docker-archive tarball that `ctr -n k8s.io images import` loads into containerd.
// Two kinds: the small ones (the pod sandbox, the backend) are one layer holding the stand-in
// binary and a static busybox; the MySQL and API Manager stand-ins are Debian's root
// filesystem (rootfs.MariaDB: MariaDB, a Java runtime, curl) under a layer with the stand-in,
// the entrypoint of the MySQL image and the files the product's pods look for, so that their
// init containers (keytool, curl, the mysql client, the schema loader) run the real tools.
package images

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	_ "embed"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"

	"github.com/wso2-k8s/apim-gke/components/apim"
)

// Repository is the image name prefix of every stand-in. Kubernetes normalises it to
// docker.io/wso2-standin/...; nothing is ever pulled (the images are imported beforehand).
const Repository = "wso2-standin"

// ServerHome is the stand-in's API Manager server home: the MySQL schema init container finds
// dbscripts/ under /home/wso2carbon/wso2am-* as in WSO2's image.
const ServerHome = "/home/wso2carbon/wso2am-standin"

// JavaHome is where WSO2's images keep the JDK (eclipse-temurin's layout); the keystores init
// container reads its CA certificates from there. In the stand-in it links to Debian's.
const JavaHome = "/opt/java/openjdk"

// debianJavaHome is openjdk-17-jre-headless's home in Debian.
const debianJavaHome = "/usr/lib/jvm/java-17-openjdk-amd64"

//go:embed mysql-entrypoint.sh
var mysqlEntrypoint []byte

//go:embed mysql-client.sh
var mysqlClient []byte

// Image is one image: a reference and its config.
type Image struct {
	Ref        string
	Entrypoint []string
	Cmd        []string
	User       string
	// OnDebian builds the image on Spec.Base rather than on busybox.
	OnDebian bool
}

// Spec is what the tier needs of the images it builds.
type Spec struct {
	// Standin and Busybox are paths of static binaries on this machine.
	Standin, Busybox string
	// Base is the Debian root filesystem tarball (rootfs.MariaDB) under the MySQL and API
	// Manager stand-ins.
	Base string
	// APIMVersions are the tags of the API Manager stand-in to build (v1, v2, ...); each
	// reports its tag, so a rollout to a new tag is a real image change.
	APIMVersions []string
	// APIMArgs are extra flags of the API Manager stand-in (start-up and readiness delays).
	APIMArgs []string
	// APIMVariants are more API Manager stand-in tags, each with flags of its own (e.g. a
	// start-up as slow as WSO2's).
	APIMVariants []Variant
	// BackendVersions are the tags of the backend stand-in.
	BackendVersions []string
}

// Variant is one tag of an image with its own flags.
type Variant struct {
	Tag  string
	Args []string
}

// Ref names a stand-in image, e.g. Ref("apim", "v1") = "wso2-standin/apim:v1".
func Ref(role, tag string) string { return fmt.Sprintf("%s/%s:%s", Repository, role, tag) }

// Images lists the images of spec: pause (the pod sandbox), mysql, and each version of apim
// and backend.
func (s Spec) Images() []Image {
	out := []Image{
		{Ref: Ref("pause", "1"), Entrypoint: []string{"/standin", "pause"}, User: "65535"},
		// The official image's UID; the product's StatefulSet runs it as that user too.
		{Ref: Ref("mysql", "1"), Entrypoint: []string{"/usr/local/bin/docker-entrypoint.sh"}, Cmd: []string{"mariadbd"},
			User: "999", OnDebian: true},
	}
	for _, v := range s.APIMVersions {
		out = append(out, Image{Ref: Ref("apim", v), Entrypoint: []string{"/standin", "apim"},
			Cmd: append([]string{"-version=" + v}, s.APIMArgs...), User: "10001", OnDebian: true})
	}
	for _, v := range s.APIMVariants {
		out = append(out, Image{Ref: Ref("apim", v.Tag), Entrypoint: []string{"/standin", "apim"},
			Cmd: append([]string{"-version=" + v.Tag}, v.Args...), User: "10001", OnDebian: true})
	}
	for _, v := range s.BackendVersions {
		out = append(out, Image{Ref: Ref("backend", v), Entrypoint: []string{"/standin", "backend"},
			Cmd: []string{"-listen=:9090", "-text=Hello Kubernetes!!! (" + v + ")"}, User: "65532"})
	}
	return out
}

// Write builds every image of spec into one docker-archive tarball at out (the format
// `docker save` writes and `ctr images import` reads) with go-containerregistry: each layer
// once, one config per image, and manifest.json naming each image's tag and layers. Layers are
// gzip streams without compression: the archive goes straight into the nodes' containerd, and
// compressing Debian's root filesystem would only cost time.
func Write(spec Spec, out string) error {
	small, err := rootfs(spec)
	if err != nil {
		return err
	}
	smallLayer, err := bytesLayer(small)
	if err != nil {
		return err
	}
	// The Debian layers, shared by every image built on them (written once).
	var debian []v1.Layer
	if slices.ContainsFunc(spec.Images(), func(im Image) bool { return im.OnDebian }) {
		if spec.Base == "" {
			return fmt.Errorf("the MySQL and API Manager stand-ins are built on Debian's root filesystem: Spec.Base is empty")
		}
		base, err := tarball.LayerFromFile(spec.Base, tarball.WithCompressionLevel(gzip.NoCompression))
		if err != nil {
			return fmt.Errorf("%s: %w", spec.Base, err)
		}
		top, err := debianLayer(spec)
		if err != nil {
			return err
		}
		topLayer, err := bytesLayer(top)
		if err != nil {
			return err
		}
		debian = []v1.Layer{base, topLayer}
	}
	all := map[name.Tag]v1.Image{}
	for _, im := range spec.Images() {
		layers := []v1.Layer{smallLayer}
		if im.OnDebian {
			layers = debian
		}
		img, err := image(im, layers)
		if err != nil {
			return fmt.Errorf("%s: %w", im.Ref, err)
		}
		tag, err := name.NewTag(im.Ref)
		if err != nil {
			return err
		}
		all[tag] = img
	}
	return tarball.MultiWriteToFile(out, all)
}

// image is im's config over layers.
func image(im Image, layers []v1.Layer) (v1.Image, error) {
	img, err := mutate.ConfigFile(empty.Image, &v1.ConfigFile{
		Architecture: "amd64",
		OS:           "linux",
		Created:      v1.Time{Time: time.Unix(0, 0).UTC()},
		Config: v1.Config{
			Entrypoint: im.Entrypoint,
			Cmd:        im.Cmd,
			User:       im.User,
			Env:        []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"},
			WorkingDir: "/",
			Labels:     map[string]string{"org.opencontainers.image.ref.name": im.Ref},
		},
	})
	if err != nil {
		return nil, err
	}
	return mutate.AppendLayers(img, layers...)
}

// bytesLayer is a layer of an uncompressed tarball in memory.
func bytesLayer(b []byte) (v1.Layer, error) {
	return tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil },
		tarball.WithCompressionLevel(gzip.NoCompression))
}

// debianLayer is what the MySQL and API Manager stand-ins add to Debian's root filesystem:
// the stand-in, the MySQL entrypoint and client flags, WSO2's JDK path, the server home with schema scripts
// that create the tables the product waits for, and the API Manager image's user.
func debianLayer(spec Spec) ([]byte, error) {
	standin, err := os.ReadFile(spec.Standin)
	if err != nil {
		return nil, err
	}
	passwd, group, err := accounts(spec.Base)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	epoch := time.Unix(0, 0)
	dir := func(p string, uid int) error {
		return tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: p + "/", Mode: 0o755, Uid: uid, Gid: uid, ModTime: epoch})
	}
	file := func(p string, mode int64, data []byte) error {
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: p, Mode: mode, Size: int64(len(data)), ModTime: epoch}); err != nil {
			return err
		}
		_, err := tw.Write(data)
		return err
	}
	if err := file("standin", 0o755, standin); err != nil {
		return nil, err
	}
	if err := file("usr/local/bin/docker-entrypoint.sh", 0o755, mysqlEntrypoint); err != nil {
		return nil, err
	}
	// Ahead of /usr/bin on PATH.
	for _, c := range []string{"mysql", "mysqldump"} {
		if err := file("usr/local/bin/"+c, 0o755, mysqlClient); err != nil {
			return nil, err
		}
	}
	if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeSymlink, Name: strings.TrimPrefix(JavaHome, "/"), Linkname: debianJavaHome, Mode: 0o777, ModTime: epoch}); err != nil {
		return nil, err
	}
	if err := file("etc/passwd", 0o644, append(passwd, "wso2carbon:x:10001:10001::/home/wso2carbon:/bin/sh\n"...)); err != nil {
		return nil, err
	}
	if err := file("etc/group", 0o644, append(group, "wso2carbon:x:10001:\n"...)); err != nil {
		return nil, err
	}
	home := strings.TrimPrefix(ServerHome, "/")
	for _, d := range []string{"home/wso2carbon", home, home + "/dbscripts", home + "/dbscripts/apimgt"} {
		if err := dir(d, 10001); err != nil {
			return nil, err
		}
	}
	// The scripts create the tables the product's wait-for-database checks, as WSO2's do last.
	for script, db := range map[string]string{"dbscripts/apimgt/mysql.sql": apim.APIMDatabase, "dbscripts/mysql.sql": apim.SharedDatabase} {
		sql := fmt.Sprintf("-- %s schema stand-in\nCREATE TABLE %s (ID INTEGER NOT NULL PRIMARY KEY);\n", db, apim.SchemaMarkers[db])
		if err := file(home+"/"+script, 0o644, []byte(sql)); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// accounts reads /etc/passwd and /etc/group out of the root filesystem tarball at base.
func accounts(base string) (passwd, group []byte, err error) {
	f, err := os.Open(base)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	tr := tar.NewReader(f)
	for passwd == nil || group == nil {
		h, err := tr.Next()
		if err == io.EOF {
			return nil, nil, fmt.Errorf("%s has no etc/passwd or etc/group", base)
		}
		if err != nil {
			return nil, nil, err
		}
		switch strings.TrimPrefix(h.Name, "./") {
		case "etc/passwd":
			passwd, err = io.ReadAll(tr)
		case "etc/group":
			group, err = io.ReadAll(tr)
		}
		if err != nil {
			return nil, nil, err
		}
	}
	return passwd, group, nil
}

// rootfs is the small images' layer: /standin, busybox and its applets in /bin, /tmp and an
// /etc/passwd naming the users the pods run as.
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
	if err := file("etc/passwd", 0o644, []byte("root:x:0:0:root:/root:/bin/sh\nnonroot:x:65532:65532::/home/nonroot:/bin/false\n")); err != nil {
		return nil, err
	}
	if err := file("etc/group", 0o644, []byte("root:x:0:\nnonroot:x:65532:\n")); err != nil {
		return nil, err
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
