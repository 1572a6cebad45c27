package images

import (
	"archive/tar"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The archive Write makes reads back as the images of the spec: each image's entrypoint, command
// and user, its layers (one for the small images, Debian's and the stand-in's for the others),
// and each layer once in the archive.
func TestWriteReadsBack(t *testing.T) {
	dir := t.TempDir()
	file := func(name, content string, mode os.FileMode) string {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, []byte(content), mode))
		return p
	}
	// A busybox that lists two applets, a stand-in, and a root filesystem with the accounts.
	spec := Spec{
		Busybox:         file("busybox", "#!/bin/sh\necho /bin/sh; echo /bin/ls\n", 0o755),
		Standin:         file("standin", "stand-in binary", 0o755),
		Base:            filepath.Join(dir, "base.tar"),
		APIMVersions:    []string{"v1", "v2"},
		APIMArgs:        []string{"-ready-delay=1s"},
		APIMVariants:    []Variant{{Tag: "slow", Args: []string{"-start-delay=60s"}}},
		BackendVersions: []string{"v1"},
	}
	f, err := os.Create(spec.Base)
	require.NoError(t, err)
	tw := tar.NewWriter(f)
	for _, e := range []struct{ name, body string }{{"./etc/passwd", "root:x:0:0::/root:/bin/sh\n"}, {"./etc/group", "root:x:0:\n"}} {
		require.NoError(t, tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: e.name, Mode: 0o644, Size: int64(len(e.body))}))
		_, err := tw.Write([]byte(e.body))
		require.NoError(t, err)
	}
	require.NoError(t, tw.Close())
	require.NoError(t, f.Close())

	out := filepath.Join(dir, "images.tar")
	require.NoError(t, Write(spec, out))

	layers := map[v1.Hash]bool{}
	for _, im := range spec.Images() {
		tag, err := name.NewTag(im.Ref)
		require.NoError(t, err)
		img, err := tarball.ImageFromPath(out, &tag)
		require.NoError(t, err, im.Ref)
		cfg, err := img.ConfigFile()
		require.NoError(t, err)
		assert.Equal(t, im.Entrypoint, cfg.Config.Entrypoint, im.Ref)
		assert.Equal(t, im.Cmd, cfg.Config.Cmd, im.Ref)
		assert.Equal(t, im.User, cfg.Config.User, im.Ref)
		assert.Equal(t, "amd64", cfg.Architecture)
		assert.Equal(t, im.Ref, cfg.Config.Labels["org.opencontainers.image.ref.name"])
		ls, err := img.Layers()
		require.NoError(t, err)
		want := 1
		if im.OnDebian {
			want = 2
		}
		require.Len(t, ls, want, im.Ref)
		assert.Len(t, cfg.RootFS.DiffIDs, want, im.Ref)
		for _, l := range ls {
			d, err := l.Digest()
			require.NoError(t, err)
			layers[d] = true
		}
		// The stand-in is in the image's top layer, as the entrypoint expects.
		files := layerFiles(t, ls[len(ls)-1])
		assert.Equal(t, "stand-in binary", files["standin"], im.Ref)
		if im.OnDebian {
			assert.Contains(t, files, "usr/local/bin/docker-entrypoint.sh")
			assert.Contains(t, files["etc/passwd"], "wso2carbon:x:10001:10001:", "the API Manager image's user")
		} else {
			assert.Contains(t, files, "bin/busybox")
			assert.Contains(t, files, "bin/ls", "an applet")
		}
	}
	assert.Len(t, layers, 3, "the small layer, Debian's and the stand-ins' on it: each shared")
	assert.Len(t, spec.Images(), 6)

	// Each layer is in the archive once.
	a, err := os.Open(out)
	require.NoError(t, err)
	defer a.Close()
	r := tar.NewReader(a)
	blobs := 0
	for {
		h, err := r.Next()
		if err == io.EOF {
			break
		}
		require.NoError(t, err)
		if filepath.Ext(h.Name) == ".gz" {
			blobs++
		}
	}
	assert.Equal(t, 3, blobs)
}

// layerFiles maps each regular file of a layer to its content (symlinks to "->target").
func layerFiles(t *testing.T, l v1.Layer) map[string]string {
	t.Helper()
	rc, err := l.Uncompressed()
	require.NoError(t, err)
	defer rc.Close()
	out := map[string]string{}
	r := tar.NewReader(rc)
	for {
		h, err := r.Next()
		if err == io.EOF {
			return out
		}
		require.NoError(t, err)
		switch h.Typeflag {
		case tar.TypeReg:
			b, err := io.ReadAll(r)
			require.NoError(t, err)
			out[h.Name] = string(b)
		case tar.TypeSymlink:
			out[h.Name] = "->" + h.Linkname
		}
	}
}
