package composeload

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
)

const pinCompose = `
services:
  web:
    image: busybox
    env_file: app.env
    environment:
      PASS: "a$$b"
      HOST: ${HOST:-dflt}
    volumes: ["./nginx.conf:/etc/nginx/nginx.conf:ro"]
    configs: [{source: conf, target: /etc/app.conf}, envconf]
    ports: ["8080:80"]
    deploy: {replicas: 2}
  db:
    image: busybox
    x-incus: {image: busybox-alt}
    profiles: [debug]
    secrets: [pw]
configs:
  conf: {file: ./conf/app.conf}
  envconf: {environment: CONF}
secrets:
  pw: {file: ./pw.txt}
`

func pinProject(t *testing.T) string {
	t.Helper()
	return project(t, map[string]string{"compose.yaml": pinCompose, "app.env": "A=1\n", "nginx.conf": "worker_processes 1;\n",
		"conf/app.conf": "x=1\n", "pw.txt": "hunter2"})
}

func fakeResolve(service, image string) (string, error) { return "fp-" + image, nil }

func pin(t *testing.T, dir string) *Pinned {
	t.Helper()
	p, err := Pin(context.Background(), Options{Name: "app", Files: []string{filepath.Join(dir, "compose.yaml")}, Profiles: []string{"debug"},
		LookupEnv: mapEnv(map[string]string{"CONF": "from env"})}, fakeResolve)
	if err != nil {
		t.Fatalf("Pin: %v", err)
	}
	return p
}

func TestPinRewritesImagesAndPaths(t *testing.T) {
	dir := pinProject(t)
	p := pin(t, dir)
	y := string(p.YAML)
	for _, want := range []string{"image: fp-busybox\n", "image: fp-busybox-alt\n", "pinned_from: busybox-alt", "source: ./nginx.conf", "path: ./app.env",
		"file: ./conf/app.conf", "content: from env", "PASS: a$b", "HOST: dflt"} {
		if !strings.Contains(y, want) {
			t.Errorf("pinned YAML lacks %q:\n%s", want, y)
		}
	}
	for _, bad := range []string{dir, "profiles:", "hunter2"} {
		if strings.Contains(y, bad) {
			t.Errorf("pinned YAML contains %q:\n%s", bad, y)
		}
	}
	if want := []string{"app.env", "conf/app.conf", "nginx.conf"}; !slices.Equal(p.Files, want) {
		t.Errorf("files %v, want %v", p.Files, want)
	}
	if !slices.Equal(p.Secrets, []string{"pw.txt"}) || !slices.Equal(p.Inputs, []string{filepath.Join(dir, "compose.yaml")}) {
		t.Errorf("secrets %v inputs %v", p.Secrets, p.Inputs)
	}
	if p.Images["db"] != (PinnedImage{Ref: "busybox-alt", Fingerprint: "fp-busybox-alt"}) {
		t.Errorf("images %v", p.Images)
	}
	if again := pin(t, dir); string(again.YAML) != y {
		t.Error("pinning twice gave different YAML")
	}
}

// TestPinnedLoadsLikeTheOriginal: the pinned file, deployed from anywhere,
// describes the same services as the original (only the image differs),
// and two extraction directories give the same hashes.
func TestPinnedLoadsLikeTheOriginal(t *testing.T) {
	src := pinProject(t)
	p := pin(t, src)
	orig, err := Load(context.Background(), Options{Name: "app", Files: []string{filepath.Join(src, "compose.yaml")}, Profiles: []string{"debug"},
		LookupEnv: mapEnv(map[string]string{"CONF": "from env"})})
	if err != nil {
		t.Fatal(err)
	}
	var hashes []string
	for i := range 2 {
		dir := project(t, map[string]string{"compose.yaml": string(p.YAML), "app.env": "A=1\n", "nginx.conf": "worker_processes 1;\n", "conf/app.conf": "x=1\n"})
		got, err := Load(context.Background(), Options{Name: "app", Files: []string{filepath.Join(dir, "compose.yaml")}, Pinned: true,
			LookupEnv: mapEnv(map[string]string{"b": "INTERPOLATED"})})
		if err != nil {
			t.Fatalf("load pinned #%d: %v\n%s", i, err, p.YAML)
		}
		for j, s := range got.Services {
			o := orig.Services[j]
			if s.Image != "fp-"+o.Image {
				t.Errorf("%s: image %q", s.Name, s.Image)
			}
			hashes = append(hashes, s.Hash)
			s.Image, s.Hash, o.Image, o.Hash = "", "", "", ""
			// A bundle never carries secret files: the original has them.
			if len(s.Secrets) != 0 {
				t.Errorf("%s: pinned load has secrets %d", s.Name, len(s.Secrets))
			}
			o.Secrets = nil
			if !reflect.DeepEqual(s, o) {
				t.Errorf("service %s differs after pinning:\n got %+v\nwant %+v", s.Name, s, o)
			}
		}
	}
	if fmt.Sprint(hashes[:2]) != fmt.Sprint(hashes[2:]) {
		t.Errorf("hashes depend on the extraction directory: %v", hashes)
	}
}

func TestPinRefusesFilesOutsideTheProject(t *testing.T) {
	outside := t.TempDir()
	if err := os.WriteFile(filepath.Join(outside, "x.env"), []byte("A=1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	dir := project(t, map[string]string{"compose.yaml": "services:\n  web:\n    image: busybox\n    env_file: " + filepath.Join(outside, "x.env") + "\n"})
	_, err := Pin(context.Background(), Options{Name: "app", Files: []string{filepath.Join(dir, "compose.yaml")}, LookupEnv: noEnv}, fakeResolve)
	wantError(t, err, "services.web.env_file", "outside the project directory")
}

func TestPinnedRefusesEnvAndProfiles(t *testing.T) {
	_, err := loadInline(t, "services:\n  web:\n    image: busybox\n", func(o *Options) { o.Pinned, o.Env = true, map[string]string{"A": "1"} })
	wantError(t, err, "env", "already interpolated")
}

// TestPinnedReadsNothingFromTheHost: a bundle's compose file comes from
// elsewhere, so it cannot pull the deployer's environment, a stray .env or
// host files into instances.
func TestPinnedReadsNothingFromTheHost(t *testing.T) {
	outside := t.TempDir()
	if err := os.WriteFile(filepath.Join(outside, "host.env"), []byte("LEAK=1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	dir := project(t, map[string]string{".env": "DOTENV=1\n"})
	yaml := "services:\n  web:\n    image: busybox\n    environment: [SECRET, DOTENV]\n    labels: {v: \"${SECRET}\"}\n"
	st, err := loadInline(t, yaml, inDir(dir), func(o *Options) {
		o.Pinned, o.LookupEnv = true, mapEnv(map[string]string{"SECRET": "s3cr3t"})
	})
	if err != nil {
		t.Fatal(err)
	}
	if s := st.Service("web"); len(s.Environment) != 0 || s.Labels["v"] != "${SECRET}" {
		t.Errorf("pinned load took host values: env %v labels %v", s.Environment, s.Labels)
	}
	_, err = loadInline(t, "services:\n  web:\n    image: busybox\n    env_file: "+filepath.Join(outside, "host.env")+"\n", inDir(dir),
		func(o *Options) { o.Pinned = true })
	wantError(t, err, "services.web.env_file", "outside the bundle")
}
