package rootfs_test

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wso2-k8s/apim-gke/tests/e2e/rootfs"
)

// entries reads a tarball into name → content.
func entries(t *testing.T, r io.Reader) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	tr := tar.NewReader(r)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return out
		}
		require.NoError(t, err)
		b, err := io.ReadAll(tr)
		require.NoError(t, err)
		out[h.Name] = b
	}
}

// The image tarball is what `ctr images import` and `docker load` read: manifest.json names the
// tag, the config and the layer; the config's diff_id is the layer's digest.
func TestWriteImageMakesADockerArchive(t *testing.T) {
	var layer bytes.Buffer
	tw := tar.NewWriter(&layer)
	require.NoError(t, tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: "usr/sbin/mariadbd", Mode: 0o755, Size: 5}))
	_, err := tw.Write([]byte("mysql"))
	require.NoError(t, err)
	require.NoError(t, tw.Close())
	dir := t.TempDir()
	layerPath := filepath.Join(dir, "rootfs.tar")
	require.NoError(t, os.WriteFile(layerPath, layer.Bytes(), 0o644))

	out := filepath.Join(dir, "image.tar")
	require.NoError(t, rootfs.WriteImage(layerPath, rootfs.MariaDBImage, out))
	f, err := os.Open(out)
	require.NoError(t, err)
	defer f.Close()
	files := entries(t, f)

	var manifest []struct {
		Config   string
		RepoTags []string
		Layers   []string
	}
	require.NoError(t, json.Unmarshal(files["manifest.json"], &manifest))
	require.Len(t, manifest, 1)
	digest := fmt.Sprintf("%x", sha256.Sum256(layer.Bytes()))
	assert.Equal(t, []string{"wso2-standin/mariadb:10.11"}, manifest[0].RepoTags)
	assert.Equal(t, []string{digest + "/layer.tar"}, manifest[0].Layers)
	assert.Equal(t, layer.Bytes(), files[digest+"/layer.tar"], "the rootfs is the layer, byte for byte")
	var cfg struct {
		Architecture, OS string
		Config           struct {
			Entrypoint, Cmd []string
			User            string
			Env             []string
		}
		RootFS struct {
			Type    string
			DiffIDs []string `json:"diff_ids"`
		}
	}
	require.NoError(t, json.Unmarshal(files[manifest[0].Config], &cfg))
	assert.Equal(t, fmt.Sprintf("%x.json", sha256.Sum256(files[manifest[0].Config])), manifest[0].Config, "named by its digest")
	assert.Equal(t, "linux", cfg.OS)
	assert.Equal(t, []string{"sha256:" + digest}, cfg.RootFS.DiffIDs)
	assert.Equal(t, []string{"mariadbd"}, cfg.Config.Entrypoint)
	assert.Equal(t, "100", cfg.Config.User)
	assert.Contains(t, cfg.Config.Env[0], "/usr/sbin")
	_, err = os.Stat(out + ".part")
	assert.True(t, os.IsNotExist(err), "written under a temporary name, then renamed")
}

func TestSpecDefaultsToThisMachinesSources(t *testing.T) {
	if _, err := os.Stat("/etc/os-release"); err != nil {
		// CI runs on Debian, whose apt sources the spec reads: there the skip would hide a break.
		if os.Getenv("CI") != "" {
			t.Fatalf("/etc/os-release is missing (%v); CI's Debian machine has it (Debian package base-files)", err)
		}
		t.Skip("no /etc/os-release")
	}
	s, err := rootfs.MariaDB.WithDefaults()
	require.NoError(t, err)
	assert.NotEmpty(t, s.Suite)
	assert.NotEmpty(t, s.Sources, "apt's own sources: no mirror is named in the repository")
	k1, err := s.Key()
	require.NoError(t, err)
	s.Packages = append(s.Packages, "gzip")
	k2, err := s.Key()
	require.NoError(t, err)
	assert.NotEqual(t, k1, k2, "another package list is another rootfs")
}
