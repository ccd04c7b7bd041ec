package incus

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/incus-fleet/incus-fleet/internal/model"
)

func TestParseOCIRef(t *testing.T) {
	for ref, want := range map[string]string{
		"postgres":                       "docker.io library/postgres:latest",
		"postgres:16":                    "docker.io library/postgres:16",
		"grafana/grafana:11.1.0":         "docker.io grafana/grafana:11.1.0",
		"ghcr.io/org/app:v1":             "ghcr.io org/app:v1",
		"registry.example:5000/team/api": "registry.example:5000 team/api:latest",
		"localhost/app:dev":              "localhost app:dev",
		"ghcr.io/org/app@sha256:" + strings.Repeat("a", 64): "ghcr.io org/app@sha256:" + strings.Repeat("a", 64),
		"redis:7@sha256:" + strings.Repeat("b", 64):         "docker.io library/redis@sha256:" + strings.Repeat("b", 64),
		"docker.io/library/nginx:alpine":                    "docker.io library/nginx:alpine",
		"index.docker.io/library/nginx:1.27":                "index.docker.io library/nginx:1.27",
		"mcr.microsoft.com/dotnet/aspnet:8.0":               "mcr.microsoft.com dotnet/aspnet:8.0",
		"quay.io/prometheus/node-exporter:v1.8.1":           "quay.io prometheus/node-exporter:v1.8.1",
		"gcr.io/cadvisor/cadvisor:v0.49.1":                  "gcr.io cadvisor/cadvisor:v0.49.1",
		"dockersamples/examplevotingapp_vote:before":        "docker.io dockersamples/examplevotingapp_vote:before",
		"traefik:v3.0":                                 "docker.io library/traefik:v3.0",
		"prom/prometheus:v2.53.0":                      "docker.io prom/prometheus:v2.53.0",
		"nvidia/dcgm-exporter:3.3.6-3.4.2-ubuntu22.04": "docker.io nvidia/dcgm-exporter:3.3.6-3.4.2-ubuntu22.04",
		"Upper/Case":                                   "",
		"app@sha256:short":                             "",
		"images:debian/12":                             "",
	} {
		r, ok := parseOCIRef(ref)
		got := ""
		if ok {
			got = r.Registry + " " + r.alias()
		}
		if got != want {
			t.Errorf("parseOCIRef(%q) = %q, want %q", ref, got, want)
		}
	}
}

// TestOCIInstanceSource: with instance_oci, the exact source of the
// POST /1.0/instances request, with Docker Hub's mirror setting.
func TestOCIInstanceSource(t *testing.T) {
	for _, c := range []struct{ ref, mirror, want string }{
		{"postgres:16", "", `{"type":"image","mode":"pull","server":"https://docker.io","protocol":"oci","alias":"library/postgres:16"}`},
		{"postgres:16", "https://mirror.example/", `{"type":"image","mode":"pull","server":"https://mirror.example","protocol":"oci","alias":"library/postgres:16"}`},
		{"ghcr.io/org/app@sha256:" + strings.Repeat("c", 64), "https://mirror.example", `{"type":"image","mode":"pull","server":"https://ghcr.io","protocol":"oci","alias":"org/app@sha256:` + strings.Repeat("c", 64) + `"}`},
	} {
		r, _ := parseOCIRef(c.ref)
		info := serverInfo{APIExtensions: []string{"instances", ociExtension}, Config: map[string]string{OCIRegistryKey: c.mirror}}
		img, ok, err := ociImageFor(c.ref, r, info)
		if !ok || err != nil {
			t.Fatalf("%s: ok %v err %v", c.ref, ok, err)
		}
		img = withOCISource(img)
		b, _ := json.Marshal(img.oci)
		if string(b) != c.want {
			t.Errorf("%s: source %s\nwant %s", c.ref, b, c.want)
		}
		if img.Source.Protocol != "oci" || img.Source.Server != img.oci.Server || img.Source.Alias != img.oci.Alias || img.Source.Mode != "pull" {
			t.Errorf("%s: instance source %+v", c.ref, img.Source)
		}
		// The record's pin brings back the same request for a rollback.
		back := PinnedImage(img.Fingerprint)
		if *back.oci != *img.oci || back.Source.Alias != img.Source.Alias || back.Source.Server != img.Source.Server {
			t.Errorf("%s: pinned %+v, want %+v", c.ref, back.Source, img.Source)
		}
	}
}

// TestOCIWithoutExtension: Incus 6.0 cannot run OCI images; the error
// names the version needed and the alternatives.
func TestOCIWithoutExtension(t *testing.T) {
	r, _ := parseOCIRef("postgres:16")
	info := serverInfo{APIExtensions: []string{"instances"}}
	info.Environment.ServerVersion = "6.0.4"
	_, ok, err := ociImageFor("postgres:16", r, info)
	if !ok || !errors.Is(err, ErrNotFound) {
		t.Fatalf("ok %v err %v", ok, err)
	}
	for _, want := range []string{"Incus 6.3 or later", "instance_oci", "this cluster runs Incus 6.0.4", "--alias postgres-16", "x-incus: {image: <alias>}"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
}

// TestOCIInstanceProcess: the exact instance config for an OCI image's
// first process: entrypoint + command into oci.entrypoint, no shell
// wrapper; a command alone keeps the image's process, with a warning.
func TestOCIInstanceProcess(t *testing.T) {
	r, _ := parseOCIRef("postgres:16")
	img, _, _ := ociImageFor("postgres:16", r, serverInfo{APIExtensions: []string{ociExtension}})
	img = withOCISource(img)
	svc := &model.Service{Name: "db", Entrypoint: []string{"docker-entrypoint.sh"}, Command: []string{"postgres", "-c", "max_connections=200", "it's"}}
	post := InstanceSpec("s", svc, model.Step{Instance: "db-1", Slot: 1}, img, model.Member{}, "h")
	if got := post.Config["oci.entrypoint"]; got != `docker-entrypoint.sh postgres -c max_connections=200 'it'"'"'s'` {
		t.Errorf("oci.entrypoint = %q", got)
	}
	if _, ok := post.Config["raw.lxc"]; ok || post.Config["environment.INCUS_FLEET_INIT"] != "" {
		t.Errorf("an OCI image got the shell wrapper: %v", post.Config)
	}
	if post.Source.Protocol != "oci" || post.Source.Alias != "library/postgres:16" || post.Source.Server != "https://docker.io" || post.Source.Mode != "pull" {
		t.Errorf("source %+v", post.Source)
	}
	if w := OCICommandWarning(svc, img); w != "" {
		t.Errorf("warning with entrypoint: %s", w)
	}
	cmdOnly := &model.Service{Name: "db", Command: []string{"-c", "max_connections=200"}}
	post = InstanceSpec("s", cmdOnly, model.Step{Instance: "db-1", Slot: 1}, img, model.Member{}, "h")
	if _, ok := post.Config["oci.entrypoint"]; ok {
		t.Errorf("command only must keep the image's process: %v", post.Config)
	}
	if w := OCICommandWarning(cmdOnly, img); !strings.Contains(w, `service "db": command without entrypoint is not supported on Incus for the OCI image postgres:16`) {
		t.Errorf("warning %q", w)
	}
}
