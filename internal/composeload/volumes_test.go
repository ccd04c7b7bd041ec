package composeload

import (
	"encoding/json"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/incus-fleet/incus-fleet/internal/model"
)

func TestNamedVolumesAndTmpfsMounts(t *testing.T) {
	s := mustLoad(t, `
services:
  db:
    image: busybox
    volumes:
      - data:/var/lib/db
      - type: volume
        source: logs
        target: /logs/
        read_only: true
      - type: tmpfs
        target: /scratch
        tmpfs: {size: 1m, mode: 0o700}
      - ext:/ext
volumes:
  data:
    driver_opts: {size: 2g}
    labels: {team: db}
    x-incus: {pool: fast, shared: true}
  logs:
    driver_opts: {size: "500MB"}
  ext:
    external: true
    name: legacy-data
  unused: {}
`)
	db := s.Service("db")
	wantMounts := []model.Mount{
		{Type: model.MountVolume, Source: "data", Target: "/var/lib/db"},
		{Type: model.MountVolume, Source: "logs", Target: "/logs", ReadOnly: true},
		{Type: model.MountTmpfs, Target: "/scratch", TmpfsSize: 1 << 20, TmpfsMode: 0o700},
		{Type: model.MountVolume, Source: "ext", Target: "/ext"},
	}
	if !reflect.DeepEqual(db.Mounts, wantMounts) {
		t.Errorf("mounts\n got %+v\nwant %+v", db.Mounts, wantMounts)
	}
	wantVolumes := []model.Volume{
		{Name: "data", Pool: "fast", Size: "2147483648B", Labels: map[string]string{"team": "db"}, Shared: true},
		{Name: "ext", External: true, Incus: "legacy-data"},
		{Name: "logs", Size: "500000000B"},
	}
	if !reflect.DeepEqual(s.Volumes, wantVolumes) {
		t.Errorf("volumes (the unused one dropped)\n got %+v\nwant %+v", s.Volumes, wantVolumes)
	}
	for _, w := range s.Warnings {
		if strings.Contains(w, "volume") {
			t.Errorf("named volumes and tmpfs are mapped, yet warned about: %q", w)
		}
	}
	if got := s.VolumeName("data", db, 2, "node1"); got != "data-2" {
		t.Errorf("per-slot name %q", got)
	}
	if got := s.VolumeName("ext", db, 2, "node1"); got != "legacy-data" {
		t.Errorf("external name %q", got)
	}
}

// TestVolumeBadInput: each mistake is an input error naming the field,
// before anything reaches Incus.
func TestVolumeBadInput(t *testing.T) {
	for _, c := range []struct{ name, yaml, field, fragment string }{
		{"size", "services: {db: {image: busybox, volumes: [\"dv:/d\"]}}\nvolumes: {dv: {driver_opts: {size: lots}}}\n", "volumes.dv.driver_opts.size", "not a size"},
		{"unit", "services: {db: {image: busybox, volumes: [\"dv:/d\"]}}\nvolumes: {dv: {driver_opts: {size: 10XB}}}\n", "volumes.dv.driver_opts.size", "unknown unit"},
		{"zero", "services: {db: {image: busybox, volumes: [\"dv:/d\"]}}\nvolumes: {dv: {driver_opts: {size: \"0\"}}}\n", "volumes.dv.driver_opts.size", "positive"},
		{"extension", "services: {db: {image: busybox, volumes: [\"dv:/d\"]}}\nvolumes: {dv: {x-incus: {colour: red}}}\n", "volumes.dv.x-incus.colour", "unknown key"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := loadInline(t, c.yaml)
			wantError(t, err, c.field, c.fragment)
		})
	}
	// An unknown volume is compose-go's own check; it must stay an input error.
	_, err := loadInline(t, "services: {db: {image: busybox, volumes: [\"nope:/d\"]}}\n")
	if err == nil || !strings.Contains(err.Error(), "nope") {
		t.Errorf("unknown volume: %v", err)
	}
}

func TestSecretsArePushedButNeverSerialised(t *testing.T) {
	dir := project(t, map[string]string{"pw.txt": "hunter2-file"})
	s := mustLoad(t, `
services:
  db:
    image: busybox
    secrets:
      - pw
      - source: token
        target: api-token
        mode: 0o440
secrets:
  pw: {file: ./pw.txt}
  token: {environment: TOKEN}
`, inDir(dir), func(o *Options) { o.LookupEnv = mapEnv(map[string]string{"TOKEN": "hunter2-env"}) })
	got := s.Service("db").Secrets
	want := []model.File{
		{Target: "/run/secrets/pw", Mode: 0o444, Content: []byte("hunter2-file"), Source: "secret pw"}, // Swarm: 0:0, 0444
		{Target: "/run/secrets/api-token", Mode: 0o440, Content: []byte("hunter2-env"), Source: "secret token"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("secrets\n got %+v\nwant %+v", got, want)
	}
	b, _ := json.Marshal(s)
	if strings.Contains(string(b), "hunter2") || strings.Contains(strings.Join(s.Warnings, " "), "hunter2") {
		t.Errorf("a secret leaks into the serialised stack or warnings: %s %q", b, s.Warnings)
	}
}

// TestSecretFilesStayInsideTheProject: like configs, a secret file outside
// the project directory is refused (a bundle must not pull host files into
// instances).
func TestSecretFilesStayInsideTheProject(t *testing.T) {
	outside := t.TempDir() + "/pw"
	if err := os.WriteFile(outside, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	dir := project(t, map[string]string{})
	_, err := loadInline(t, "services: {db: {image: busybox, secrets: [pw]}}\nsecrets: {pw: {file: "+outside+"}}\n", inDir(dir))
	wantError(t, err, "services.db.secrets.pw", "outside the project directory")
}
