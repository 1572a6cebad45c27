// Package rootfs builds container images from Debian's packages with no Docker and no registry:
// mmdebstrap makes a root filesystem out of this machine's own apt sources, and WriteImage
// wraps it, as one layer, in a docker-archive tarball (what `ctr -n k8s.io images import`
// reads). The restore drill runs MariaDB from it; the real-pods tier can import the same image.
package rootfs

import (
	"archive/tar"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"time"
)

// Spec is a root filesystem: Debian's essential packages plus Packages.
type Spec struct {
	// Suite is the Debian release. Defaults to this machine's (VERSION_CODENAME).
	Suite string
	// Packages are installed on top of the essential set, with their dependencies.
	Packages []string
	// Sources are apt sources files (one-line or deb822). Defaults to this machine's, so the
	// packages come from wherever its apt gets them, and no mirror is named here.
	Sources []string
}

// MariaDB is the server the restore drill runs: MariaDB (Debian's MySQL-compatible server; no
// MySQL server is packaged) and its client tools (mysql, mysqldump). The real-pods tier's
// stand-ins for the MySQL and API Manager images are built on the same root filesystem, one
// build for both: what their init containers run is the real thing, so it also holds a Java
// runtime (keytool builds the keystores), curl and Debian's CA certificates (the JDBC driver's
// download), and openssl (the MySQL stand-in's certificates).
var MariaDB = Spec{Packages: []string{"mariadb-server", "mariadb-client", "openjdk-17-jre-headless", "curl", "ca-certificates", "openssl"}}

// MariaDBImage is how the real-pods tier would name and start it. The mysql account of the
// rootfs is uid 100 (Debian's postinst makes it), not the official MySQL image's 999: a pod
// runs the server with runAsUser 100, or the CronJob's scripts with any uid.
var MariaDBImage = Image{
	Ref:        "wso2-standin/mariadb:10.11",
	Entrypoint: []string{"mariadbd"},
	Cmd:        []string{"--user=mysql", "--bind-address=0.0.0.0", "--skip-name-resolve"},
	User:       "100",
}

// WithDefaults fills in this machine's suite and apt sources.
func (s Spec) WithDefaults() (Spec, error) {
	if s.Suite == "" {
		b, err := os.ReadFile("/etc/os-release")
		if err != nil {
			return s, fmt.Errorf("the Debian suite: %w", err)
		}
		m := regexp.MustCompile(`(?m)^VERSION_CODENAME=(\S+)$`).FindSubmatch(b)
		if m == nil {
			return s, fmt.Errorf("the Debian suite: no VERSION_CODENAME in /etc/os-release")
		}
		s.Suite = string(m[1])
	}
	if len(s.Sources) == 0 {
		for _, pattern := range []string{"/etc/apt/sources.list", "/etc/apt/sources.list.d/*.list", "/etc/apt/sources.list.d/*.sources"} {
			found, _ := filepath.Glob(pattern)
			for _, f := range found {
				if info, err := os.Stat(f); err == nil && info.Size() > 0 {
					s.Sources = append(s.Sources, f)
				}
			}
		}
		if len(s.Sources) == 0 {
			return s, fmt.Errorf("no apt sources on this machine (/etc/apt/sources.list{,.d})")
		}
	}
	return s, nil
}

// Key identifies what Build would make of s: the suite, the packages and the sources' text.
func (s Spec) Key() (string, error) {
	h := sha256.New()
	fmt.Fprintln(h, s.Suite)
	pkgs := append([]string(nil), s.Packages...)
	sort.Strings(pkgs)
	fmt.Fprintln(h, strings.Join(pkgs, ","))
	for _, f := range s.Sources {
		b, err := os.ReadFile(f)
		if err != nil {
			return "", err
		}
		h.Write(b)
	}
	return hex.EncodeToString(h.Sum(nil))[:16], nil
}

// Build writes the root filesystem of s, defaulted, as an uncompressed tarball at out, with
// mmdebstrap (root mode as root, else its unprivileged modes). log gets mmdebstrap's output.
func Build(ctx context.Context, s Spec, out string, log io.Writer) error {
	s, err := s.WithDefaults()
	if err != nil {
		return err
	}
	if _, err := exec.LookPath("mmdebstrap"); err != nil {
		return fmt.Errorf("mmdebstrap is missing: apt-get install mmdebstrap")
	}
	// A temporary name, so that an interrupted build is never taken for a finished one.
	part := strings.TrimSuffix(out, ".tar") + ".part.tar"
	args := []string{"--variant=essential", "--format=tar"}
	if len(s.Packages) > 0 {
		args = append(args, "--include="+strings.Join(s.Packages, ","))
	}
	args = append(append(args, s.Suite, part), s.Sources...)
	cmd := exec.CommandContext(ctx, "mmdebstrap", args...)
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Run(); err != nil {
		os.Remove(part)
		return fmt.Errorf("mmdebstrap %s: %w", strings.Join(args, " "), err)
	}
	return os.Rename(part, out)
}

// Cached returns the rootfs tarball of s in dir, building it when dir has none for s's Key.
func Cached(ctx context.Context, s Spec, dir string, log io.Writer) (string, bool, error) {
	s, err := s.WithDefaults()
	if err != nil {
		return "", false, err
	}
	key, err := s.Key()
	if err != nil {
		return "", false, err
	}
	out := filepath.Join(dir, "rootfs-"+key+".tar")
	if _, err := os.Stat(out); err == nil {
		return out, true, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", false, err
	}
	return out, false, Build(ctx, s, out, log)
}

// Image is an image's reference and config.
type Image struct {
	Ref        string
	Entrypoint []string
	Cmd        []string
	User       string
	Env        []string
}

// WriteImage writes a docker-archive tarball at out holding one image, ref img.Ref, whose one
// layer is the rootfs tarball at layer.
func WriteImage(layer string, img Image, out string) error {
	f, err := os.Open(layer)
	if err != nil {
		return err
	}
	defer f.Close()
	h := sha256.New()
	size, err := io.Copy(h, f)
	if err != nil {
		return err
	}
	digest := hex.EncodeToString(h.Sum(nil))
	env := img.Env
	if len(env) == 0 {
		env = []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}
	}
	cfg, err := json.Marshal(map[string]any{
		"architecture": "amd64",
		"os":           "linux",
		"created":      "1970-01-01T00:00:00Z",
		"config": map[string]any{
			"Entrypoint": img.Entrypoint, "Cmd": img.Cmd, "User": img.User, "Env": env, "WorkingDir": "/",
			"Labels": map[string]string{"org.opencontainers.image.ref.name": img.Ref},
		},
		"rootfs": map[string]any{"type": "layers", "diff_ids": []string{"sha256:" + digest}},
	})
	if err != nil {
		return err
	}
	cfgName := fmt.Sprintf("%x.json", sha256.Sum256(cfg))
	manifest, err := json.Marshal([]map[string]any{{"Config": cfgName, "RepoTags": []string{img.Ref}, "Layers": []string{digest + "/layer.tar"}}})
	if err != nil {
		return err
	}

	o, err := os.Create(out + ".part")
	if err != nil {
		return err
	}
	defer o.Close()
	tw := tar.NewWriter(o)
	header := func(name string, n int64) error {
		return tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: 0o644, Size: n, ModTime: time.Unix(0, 0)})
	}
	if err := header(digest+"/layer.tar", size); err != nil {
		return err
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return err
	}
	if _, err := io.Copy(tw, f); err != nil {
		return err
	}
	for _, e := range []struct {
		name string
		data []byte
	}{{cfgName, cfg}, {"manifest.json", manifest}} {
		if err := header(e.name, int64(len(e.data))); err != nil {
			return err
		}
		if _, err := tw.Write(e.data); err != nil {
			return err
		}
	}
	if err := tw.Close(); err != nil {
		return err
	}
	if err := o.Close(); err != nil {
		return err
	}
	return os.Rename(out+".part", out)
}
