package composeload

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// project writes files (relative path → content) into a fresh directory.
func project(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func inDir(dir string) func(*Options) { return func(o *Options) { o.ProjectDir = dir } }

const nginxCompose = `
services:
  web:
    image: nginx
    volumes:
      - ./nginx.conf:/etc/nginx/nginx.conf:ro
      - type: bind
        source: ./conf/site.conf
        target: /etc/nginx/conf.d/site.conf
`

func TestBindMountedFilesBecomeSupportFiles(t *testing.T) {
	dir := project(t, map[string]string{"nginx.conf": "worker_processes 1;\n", "conf/site.conf": "server {}\n"})
	if err := os.Chmod(filepath.Join(dir, "conf/site.conf"), 0o700); err != nil {
		t.Fatal(err)
	}
	st := mustLoad(t, nginxCompose, inDir(dir))
	files := st.Service("web").Files
	if len(files) != 2 {
		t.Fatalf("files %+v", files)
	}
	// Sorted by target; modes normalised to 0644/0755 (only the x bit counts).
	if f := files[0]; f.Target != "/etc/nginx/conf.d/site.conf" || f.Mode != 0o755 || string(f.Content) != "server {}\n" || f.Source != "./conf/site.conf" {
		t.Errorf("first file %+v", f)
	}
	if f := files[1]; f.Target != "/etc/nginx/nginx.conf" || f.Mode != 0o644 || string(f.Content) != "worker_processes 1;\n" {
		t.Errorf("second file %+v", f)
	}
	if len(st.Warnings) != 0 {
		t.Errorf("warnings %v", st.Warnings)
	}
}

func TestSupportFileContentIsPartOfTheHash(t *testing.T) {
	dir := project(t, map[string]string{"nginx.conf": "a", "conf/site.conf": "b"})
	before := st(t, dir).Hash
	if again := st(t, dir).Hash; again != before {
		t.Fatalf("hash not stable: %s vs %s", before, again)
	}
	if err := os.WriteFile(filepath.Join(dir, "nginx.conf"), []byte("A"), 0o644); err != nil {
		t.Fatal(err)
	}
	if after := st(t, dir).Hash; after == before {
		t.Error("editing nginx.conf did not change the hash")
	}
	// The same project in another directory hashes the same: the hash
	// holds no absolute host path (a bundle extracts elsewhere).
	moved := project(t, map[string]string{"nginx.conf": "a", "conf/site.conf": "b"})
	if h := st(t, moved).Hash; h != before {
		t.Errorf("moving the project changed the hash: %s vs %s", h, before)
	}
}

func st(t *testing.T, dir string) struct{ Hash string } {
	t.Helper()
	return struct{ Hash string }{mustLoad(t, nginxCompose, inDir(dir)).Service("web").Hash}
}

func TestEnvFilePathDoesNotTieTheHashToTheDirectory(t *testing.T) {
	yaml := "services:\n  web:\n    image: busybox\n    env_file: app.env\n"
	a := mustLoad(t, yaml, inDir(project(t, map[string]string{"app.env": "A=1\n"}))).Service("web")
	b := mustLoad(t, yaml, inDir(project(t, map[string]string{"app.env": "A=1\n"}))).Service("web")
	if a.Hash != b.Hash {
		t.Errorf("same env_file in two directories: %s vs %s", a.Hash, b.Hash)
	}
}

func TestConfigsBecomeSupportFiles(t *testing.T) {
	dir := project(t, map[string]string{"app.conf": "from file"})
	yaml := `
services:
  web:
    image: busybox
    configs:
      - fromfile
      - source: inline
        target: /etc/inline.conf
        uid: "1000"
        gid: "100"
        mode: 0600
      - source: fromenv
        target: etc/env.conf
configs:
  fromfile: {file: ./app.conf}
  inline: {content: "inline text"}
  fromenv: {environment: CONF_TEXT}
`
	s := mustLoad(t, yaml, inDir(dir), func(o *Options) { o.Env = map[string]string{"CONF_TEXT": "env text"} }).Service("web")
	want := map[string]string{"/fromfile": "from file", "/etc/inline.conf": "inline text", "/etc/env.conf": "env text"}
	if len(s.Files) != len(want) {
		t.Fatalf("files %+v", s.Files)
	}
	for _, f := range s.Files {
		if want[f.Target] != string(f.Content) {
			t.Errorf("%s holds %q, want %q", f.Target, f.Content, want[f.Target])
		}
		switch f.Target {
		case "/etc/inline.conf":
			if f.Mode != 0o600 || f.UID != 1000 || f.GID != 100 {
				t.Errorf("inline config %+v", f)
			}
		default:
			if f.Mode != 0o444 || f.UID != 0 {
				t.Errorf("config %s: mode %o uid %d, want Compose's 0444 and root", f.Target, f.Mode, f.UID)
			}
		}
	}
}

func TestSupportFilesRefused(t *testing.T) {
	outside := t.TempDir()
	if err := os.WriteFile(filepath.Join(outside, "secret.conf"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	dir := project(t, map[string]string{"big.conf": strings.Repeat("x", maxSupportBytes+1)})
	if err := os.Symlink(filepath.Join(outside, "secret.conf"), filepath.Join(dir, "link.conf")); err != nil {
		t.Fatal(err)
	}
	cases := []struct{ name, volume, field, contains string }{
		{"symlink pointing outside", "./link.conf:/etc/x", "services.web.volumes", "symlink to a file outside"},
		{"missing", "./nope.conf:/etc/x", "services.web.volumes", "does not exist"},
		{"too big", "./big.conf:/etc/x", "services.web.volumes", "limited to"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			// The outside dir must be a sibling for the ".." case.
			_, err := loadInline(t, "services:\n  web:\n    image: busybox\n    volumes: [\""+c.volume+"\"]\n", inDir(dir))
			wantError(t, err, c.field, c.contains)
		})
	}
}

func TestDuplicateTargetsRefused(t *testing.T) {
	dir := project(t, map[string]string{"a": "1", "b": "2"})
	yaml := "services:\n  web:\n    image: busybox\n    volumes: [\"./a:/etc/x\"]\n    configs: [{source: b, target: /etc/x}]\nconfigs:\n  b: {file: ./b}\n"
	_, err := loadInline(t, yaml, inDir(dir))
	wantError(t, err, "services.web.volumes", "two files at /etc/x")
}

func TestUnsupportedMountsWarn(t *testing.T) {
	dir := project(t, map[string]string{"html/index.html": "hi", "pw": "secret"})
	yaml := `
services:
  web:
    image: busybox
    volumes: ["./html:/srv/www", "data:/data", "/cache"]
    secrets: [pw]
volumes:
  data: {}
secrets:
  pw: {file: ./pw}
`
	s := mustLoad(t, yaml, inDir(dir))
	if len(s.Service("web").Files) != 0 {
		t.Errorf("files %+v", s.Service("web").Files)
	}
	for _, want := range []string{"directory ./html at /srv/www is not supported yet", `named volume "data" at /data`, "anonymous volume at /cache", "secrets are not supported yet"} {
		found := false
		for _, w := range s.Warnings {
			found = found || strings.Contains(w, want)
		}
		if !found {
			t.Errorf("no warning containing %q in %q", want, s.Warnings)
		}
	}
}
