package incus

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/incus-fleet/incus-fleet/internal/model"
	"github.com/incus-fleet/incus-fleet/internal/ociref"
	"github.com/incus-fleet/incus-fleet/internal/ociref/registrytest"
	"github.com/incus-fleet/incus-fleet/internal/planner"
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

// ociTestClient is a client with no Incus connection whose registry is the
// test registry on 127.0.0.1 (the tests never reach an external address).
func ociTestClient(reg *registrytest.Registry) *Client {
	c := &Client{arch: "x86_64"}
	c.UseRegistryClient(&ociref.Client{HTTP: reg.Client()})
	return c
}

func ociInfo(mirror string) serverInfo {
	return serverInfo{APIExtensions: []string{"instances", ociExtension}, Config: map[string]string{OCIRegistryKey: mirror}}
}

// TestOCIInstanceSource: with instance_oci, a tag is pinned to the manifest
// digest the registry gives (through its token flow), and the exact source
// of the POST /1.0/instances request pulls that digest, also with Docker
// Hub's mirror setting; a digest reference asks no registry.
func TestOCIInstanceSource(t *testing.T) {
	reg := registrytest.New()
	defer reg.Close()
	c := ociTestClient(reg)
	pg := reg.Push("library/postgres", "16", []string{"docker-entrypoint.sh"})
	api := reg.Push("team/api", "1", nil)
	pinned := "sha256:" + strings.Repeat("c", 64)
	for _, tc := range []struct{ ref, mirror, want string }{
		{"postgres:16", reg.URL + "/", `{"type":"image","mode":"pull","server":"` + reg.URL + `","protocol":"oci","alias":"library/postgres@` + pg + `"}`},
		{reg.Host() + "/team/api:1", "", `{"type":"image","mode":"pull","server":"` + reg.URL + `","protocol":"oci","alias":"team/api@` + api + `"}`},
		{"ghcr.io/org/app@sha256:" + strings.Repeat("c", 64), "https://mirror.example", `{"type":"image","mode":"pull","server":"https://ghcr.io","protocol":"oci","alias":"org/app@` + pinned + `"}`},
	} {
		r, _ := parseOCIRef(tc.ref)
		n := len(reg.Requests)
		img, ok, err := ociImageFor(context.Background(), c.oci.client(), tc.ref, r, ociInfo(tc.mirror))
		if !ok || err != nil {
			t.Fatalf("%s: ok %v err %v", tc.ref, ok, err)
		}
		if r.Digest != "" && len(reg.Requests) != n {
			t.Errorf("%s: a digest reference asked the registry", tc.ref)
		}
		img = withOCISource(img)
		b, _ := json.Marshal(img.oci)
		if string(b) != tc.want {
			t.Errorf("%s: source %s\nwant %s", tc.ref, b, tc.want)
		}
		if img.Source.Protocol != "oci" || img.Source.Server != img.oci.Server || img.Source.Alias != img.oci.Alias || img.Source.Mode != "pull" {
			t.Errorf("%s: instance source %+v", tc.ref, img.Source)
		}
		if img.Fingerprint != "oci:"+img.oci.Server+"/"+img.oci.Alias || img.Ref != tc.ref {
			t.Errorf("%s: pin %s ref %s", tc.ref, img.Fingerprint, img.Ref)
		}
		// The record's pin brings back the same request for a rollback.
		back := PinnedImage(img.Fingerprint)
		if bb, _ := json.Marshal(back.oci); string(bb) != string(b) || back.Source.Alias != img.Source.Alias || back.Source.Server != img.Source.Server {
			t.Errorf("%s: pinned %+v, want %+v", tc.ref, back.Source, img.Source)
		}
	}
	if !slices.Contains(reg.Requests, "HEAD /v2/team/api/manifests/1") {
		t.Errorf("registry requests %v", reg.Requests)
	}
}

// TestOCIMovedTagReplaces: the same reference applied twice, with the tag
// moved between the two, pins a new digest, and the plan replaces the
// instance for it ("image changed").
func TestOCIMovedTagReplaces(t *testing.T) {
	reg := registrytest.New()
	defer reg.Close()
	c := ociTestClient(reg)
	ref := reg.Host() + "/team/api:stable"
	resolve := func() Image {
		r, _ := parseOCIRef(ref)
		img, _, err := ociImageFor(context.Background(), c.oci.client(), ref, r, ociInfo(""))
		if err != nil {
			t.Fatal(err)
		}
		return img
	}
	reg.Push("team/api", "stable", []string{"/v1"})
	first := resolve()
	svc := model.Service{Name: "api", Image: ref, Hash: "h1", Deploy: model.DeploySpec{Mode: model.ModeReplicated, Replicas: 1}}
	stack := &model.Stack{Name: "s", Services: []model.Service{svc}}
	state := &model.ClusterState{
		Members: []model.Member{{Name: "node1", Status: model.StatusOnline, Architecture: "x86_64"}},
		Instances: []model.Instance{{Name: "api-1", Project: "s", Member: "node1", Status: "Running", Config: map[string]string{
			model.KeyStack: "s", model.KeyService: "api", model.KeySlot: "1", model.KeyHash: model.SlotHash("h1", first.Fingerprint)}}},
	}
	plan := func(img Image) model.Plan {
		p, _, err := planner.Plan(stack, state, planner.Options{ImageFingerprints: map[string]string{"api": img.Fingerprint}})
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	if p := plan(resolve()); p.Changes() {
		t.Fatalf("unmoved tag changes the plan: %+v", p.Steps)
	}
	reg.Push("team/api", "stable", []string{"/v2"})
	second := resolve()
	if second.Fingerprint == first.Fingerprint {
		t.Fatalf("moved tag kept its pin %s", first.Fingerprint)
	}
	p := plan(second)
	if len(p.Steps) != 1 || p.Steps[0].Op != model.OpReplace || !strings.Contains(p.Steps[0].Reason, "image") {
		t.Fatalf("moved tag: plan %+v, want one replace for the image", p.Steps)
	}
}

// TestOCIRegistryErrors: an unknown tag is "not found" naming the
// reference; an unreachable registry says so and names the mirror setting.
func TestOCIRegistryErrors(t *testing.T) {
	reg := registrytest.New()
	c := ociTestClient(reg)
	ref := reg.Host() + "/team/none:1"
	r, _ := parseOCIRef(ref)
	_, _, err := ociImageFor(context.Background(), c.oci.client(), ref, r, ociInfo(""))
	if !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), `image "`+ref+`"`) {
		t.Errorf("unknown tag: %v", err)
	}
	reg.Close()
	_, _, err = ociImageFor(context.Background(), c.oci.client(), ref, r, ociInfo(""))
	if !errors.Is(err, ErrUnreachable) || !strings.Contains(err.Error(), OCIRegistryKey) {
		t.Errorf("closed registry: %v", err)
	}
}

// TestOCIWithoutExtension: Incus 6.0 cannot run OCI images; the error
// names the version needed and the alternatives.
func TestOCIWithoutExtension(t *testing.T) {
	r, _ := parseOCIRef("postgres:16")
	info := serverInfo{APIExtensions: []string{"instances"}}
	info.Environment.ServerVersion = "6.0.4"
	_, ok, err := ociImageFor(context.Background(), nil, "postgres:16", r, info)
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
// wrapper; a command alone (only flags, or a whole command) runs after
// the image's ENTRYPOINT read from the config blob of the pinned digest.
func TestOCIInstanceProcess(t *testing.T) {
	reg := registrytest.New()
	defer reg.Close()
	c := ociTestClient(reg)
	pg := reg.Push("library/postgres", "16", []string{"docker-entrypoint.sh"})
	reg.Push("library/plain", "1", nil)
	resolve := func(ref string) Image {
		r, _ := parseOCIRef(ref)
		img, _, err := ociImageFor(context.Background(), c.oci.client(), ref, r, ociInfo(reg.URL))
		if err != nil {
			t.Fatal(err)
		}
		return withOCISource(img)
	}
	img := resolve("postgres:16")
	spec := func(svc *model.Service, img Image) map[string]string {
		img, err := c.WithImageEntrypoint(context.Background(), svc, img)
		if err != nil {
			t.Fatal(err)
		}
		return InstanceSpec("s", svc, model.Step{Instance: "db-1", Slot: 1}, img, model.Member{}, "h").Config
	}
	n := len(reg.Requests)
	// Its own healthcheck: the image's HEALTHCHECK (which would need the
	// config blob) does not apply.
	svc := &model.Service{Name: "db", Entrypoint: []string{"docker-entrypoint.sh"}, Command: []string{"postgres", "-c", "max_connections=200", "it's"},
		Healthcheck: &model.Healthcheck{Test: []string{"CMD", "true"}}}
	cfg := spec(svc, img)
	if got := cfg["oci.entrypoint"]; got != `docker-entrypoint.sh postgres -c max_connections=200 'it'"'"'s'` {
		t.Errorf("oci.entrypoint = %q", got)
	}
	if _, ok := cfg["raw.lxc"]; ok || cfg["environment.INCUS_FLEET_INIT"] != "" {
		t.Errorf("an OCI image got the shell wrapper: %v", cfg)
	}
	if len(reg.Requests) != n {
		t.Errorf("entrypoint given, yet the registry was asked: %v", reg.Requests[n:])
	}
	post := InstanceSpec("s", svc, model.Step{Instance: "db-1", Slot: 1}, img, model.Member{}, "h")
	if post.Source.Protocol != "oci" || post.Source.Alias != "library/postgres@"+pg || post.Source.Server != reg.URL || post.Source.Mode != "pull" || post.Source.Type != "image" {
		t.Errorf("source %+v", post.Source)
	}
	flags := &model.Service{Name: "db", Command: []string{"-c", "max_connections=200"}}
	if got := spec(flags, img)["oci.entrypoint"]; got != "docker-entrypoint.sh -c max_connections=200" {
		t.Errorf("flags after ENTRYPOINT: oci.entrypoint = %q", got)
	}
	whole := &model.Service{Name: "db", Command: []string{"postgres", "-c", "fsync=off"}}
	if got := spec(whole, img)["oci.entrypoint"]; got != "docker-entrypoint.sh postgres -c fsync=off" {
		t.Errorf("command after ENTRYPOINT: oci.entrypoint = %q", got)
	}
	plain := &model.Service{Name: "p", Command: []string{"/bin/app", "--serve"}}
	if got := spec(plain, resolve("plain:1"))["oci.entrypoint"]; got != "/bin/app --serve" {
		t.Errorf("no ENTRYPOINT: oci.entrypoint = %q", got)
	}
	if !slices.ContainsFunc(reg.Requests, func(r string) bool { return strings.HasPrefix(r, "GET /v2/library/postgres/blobs/sha256:") }) {
		t.Errorf("the config blob was not read: %v", reg.Requests)
	}
	// The ENTRYPOINT of a digest is read once per client.
	n = len(reg.Requests)
	_ = spec(flags, img)
	if len(reg.Requests) != n {
		t.Errorf("ENTRYPOINT read again: %v", reg.Requests[n:])
	}
	if _, ok := spec(&model.Service{Name: "db"}, img)["oci.entrypoint"]; ok {
		t.Errorf("no entrypoint nor command must keep the image's process")
	}
}
