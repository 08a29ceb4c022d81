// Command mkimage builds the function's runtime image as a docker-style
// tarball without a Docker engine: one layer holding the static function
// binary at /function, run as the non-root user 65532 and listening on 9443,
// as the Dockerfile's image does. `crossplane xpkg build
// --embed-runtime-image-tarball` embeds it in the Function package.
package main

import (
	"archive/tar"
	"bytes"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// The runtime contract, shared with the Dockerfile.
const (
	entrypoint = "/function"
	user       = "65532:65532"
	port       = "9443/tcp"
)

func main() {
	binary := flag.String("binary", "", "path of the static function binary")
	out := flag.String("o", "", "path of the image tarball to write")
	tag := flag.String("tag", "function-squonk2-viz:latest", "image reference recorded in the tarball")
	arch := flag.String("arch", "amd64", "architecture of the binary")
	flag.Parse()
	if err := build(*binary, *out, *tag, *arch); err != nil {
		fmt.Fprintln(os.Stderr, "mkimage:", err)
		os.Exit(1)
	}
}

func build(binary, out, tag, arch string) error {
	if binary == "" || out == "" {
		return fmt.Errorf("-binary and -o are required")
	}
	ref, err := name.NewTag(tag)
	if err != nil {
		return fmt.Errorf("invalid -tag %q: %w", tag, err)
	}
	content, err := os.ReadFile(binary) //nolint:gosec // The path is the build's own output.
	if err != nil {
		return fmt.Errorf("cannot read the function binary: %w", err)
	}
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return layerTar(content)
	})
	if err != nil {
		return fmt.Errorf("cannot make the image layer: %w", err)
	}
	img, err := mutate.AppendLayers(empty.Image, layer)
	if err != nil {
		return fmt.Errorf("cannot add the image layer: %w", err)
	}
	cfg, err := img.ConfigFile()
	if err != nil {
		return fmt.Errorf("cannot read the image config: %w", err)
	}
	cfg = cfg.DeepCopy()
	cfg.OS, cfg.Architecture = "linux", arch
	cfg.Config.Entrypoint = []string{entrypoint}
	cfg.Config.User = user
	cfg.Config.WorkingDir = "/"
	cfg.Config.ExposedPorts = map[string]struct{}{port: {}}
	cfg.Config.Env = []string{"PATH=/usr/local/bin:/usr/bin:/bin"}
	if img, err = mutate.ConfigFile(img, cfg); err != nil {
		return fmt.Errorf("cannot set the image config: %w", err)
	}
	if err := tarball.WriteToFile(out, ref, img); err != nil {
		return fmt.Errorf("cannot write %s: %w", out, err)
	}
	return nil
}

// layerTar returns a layer holding the binary at the entrypoint, owned by
// the runtime user, with fixed timestamps so that builds are reproducible.
func layerTar(binary []byte) (io.ReadCloser, error) {
	var b bytes.Buffer
	w := tar.NewWriter(&b)
	if err := w.WriteHeader(&tar.Header{
		Name: entrypoint[1:], Mode: 0o755, Size: int64(len(binary)), Uid: 65532, Gid: 65532, Typeflag: tar.TypeReg,
	}); err != nil {
		return nil, err
	}
	if _, err := w.Write(binary); err != nil {
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	return io.NopCloser(&b), nil
}
