package composeload

import (
	"context"
	"errors"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/incus-fleet/incus-fleet/internal/model"
)

// noEnv keeps tests hermetic: the real process environment never leaks in.
func noEnv(string) (string, bool) { return "", false }

func mapEnv(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

func loadInline(t *testing.T, yaml string, mods ...func(*Options)) (*model.Stack, error) {
	t.Helper()
	o := Options{Name: "test", Inline: yaml, ProjectDir: t.TempDir(), LookupEnv: noEnv}
	for _, m := range mods {
		m(&o)
	}
	return Load(context.Background(), o)
}

func mustLoad(t *testing.T, yaml string, mods ...func(*Options)) *model.Stack {
	t.Helper()
	st, err := loadInline(t, yaml, mods...)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	return st
}

// wantError asserts err is an *Error with the given field whose message
// contains every fragment (the "what" and the "how to fix").
func wantError(t *testing.T, err error, field string, fragments ...string) {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("error = %v (%T), want *composeload.Error", err, err)
	}
	if e.Field != field {
		t.Errorf("Field = %q, want %q (message: %s)", e.Field, field, e.Message)
	}
	for _, f := range fragments {
		if !strings.Contains(e.Message, f) {
			t.Errorf("message %q does not contain %q", e.Message, f)
		}
	}
}

func serviceNames(st *model.Stack) []string {
	var out []string
	for _, s := range st.Services {
		out = append(out, s.Name)
	}
	return out
}

func TestOptionErrors(t *testing.T) {
	const ok = "services:\n  web:\n    image: nginx\n"
	tests := []struct {
		name      string
		o         Options
		field     string
		fragments []string
	}{
		{"missing name", Options{Inline: ok}, "name", []string{"stack name is required"}},
		{"bad name", Options{Name: "My App", Inline: ok}, "name", []string{`"My App"`, "lowercase"}},
		{"no input", Options{Name: "s"}, "files", []string{"no compose input", "pass at least one compose file"}},
		{"both inputs", Options{Name: "s", Inline: ok, Files: []string{"x.yaml"}}, "inline", []string{"one or the other"}},
		{"empty path", Options{Name: "s", Files: []string{" "}}, "files", []string{"empty path"}},
		{"missing file", Options{Name: "s", Files: []string{"testdata/nope.yaml"}}, "files", []string{"cannot read compose file", "nope.yaml"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.o.LookupEnv = noEnv
			_, err := Load(context.Background(), tt.o)
			wantError(t, err, tt.field, tt.fragments...)
		})
	}
}

func TestComposeErrorsBecomeError(t *testing.T) {
	tests := []struct {
		name, yaml, field string
		fragments         []string
	}{
		{"yaml syntax", "services:\n  web:\n    image: x\n   bad: [\n", "compose", []string{"invalid compose input", "yaml"}},
		{"unknown attribute", "services:\n  web:\n    image: x\n    imgae: y\n", "services.web.imgae", []string{"not a Compose attribute"}},
		{"required variable", "services:\n  web:\n    image: ${TAG:?set TAG}\n", "services.web.image", []string{"TAG", "set TAG"}},
		{"undefined dependency", "services:\n  web:\n    image: x\n    depends_on: [db]\n", "services.web", []string{"undefined service"}},
		{"empty", "# nothing\n", "compose", []string{"empty"}},
		// Caught before compose-go, whose own check takes tens of seconds.
		{"self-referencing anchor", "services: &a {<<: *a}\n", "compose", []string{"*a refers to the node that contains it"}},
		// compose-go checks the test form itself and names no service.
		{"healthcheck test form", "services:\n  web:\n    image: a\n    healthcheck:\n      test: [curl, x]\n", "compose", []string{`"CMD"`, `"CMD-SHELL"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := loadInline(t, tt.yaml)
			wantError(t, err, tt.field, tt.fragments...)
		})
	}
}

func TestCancelledContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := Load(ctx, Options{Name: "s", Inline: "services:\n  a:\n    image: x\n", LookupEnv: noEnv})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}

func TestMultipleFilesOverride(t *testing.T) {
	st, err := Load(context.Background(), Options{
		Name:      "prod",
		Files:     []string{"testdata/override/compose.yaml", "testdata/override/compose.prod.yaml"},
		LookupEnv: noEnv,
	})
	if err != nil {
		t.Fatal(err)
	}
	if st.Name != "prod" {
		t.Errorf("Name = %q", st.Name)
	}
	if got := serviceNames(st); !reflect.DeepEqual(got, []string{"db", "web"}) {
		t.Fatalf("services = %v, want sorted [db web]", got)
	}
	web := st.Service("web")
	if web.Image != "nginx:1.27" {
		t.Errorf("image = %q, want the override's", web.Image)
	}
	if want := map[string]string{"LOG": "debug", "EXTRA": "1"}; !reflect.DeepEqual(web.Environment, want) {
		t.Errorf("environment = %v, want %v", web.Environment, want)
	}
	if len(web.Ports) != 1 || web.Ports[0].PublishedStart != 8080 {
		t.Errorf("ports = %+v, want the base file's 8080:80 kept", web.Ports)
	}
	if web.Deploy.Replicas != 4 || web.Deploy.UpdateConfig.Order != model.OrderStartFirst {
		t.Errorf("deploy = %+v, want replicas 4 and start-first from the override", web.Deploy)
	}
	if db := st.Service("db"); db.Image != "postgres:16" || db.Deploy.Replicas != 1 {
		t.Errorf("db = %+v", db)
	}
}

func TestEnvPrecedence(t *testing.T) {
	process := map[string]string{
		"TAG": "process", "A": "process", "B": "process", "C": "process",
		"BARE_DOTENV": "process", "BARE_PROCESS": "process-bare",
	}
	st, err := Load(context.Background(), Options{
		Name:      "envtest",
		Files:     []string{"testdata/dotenv/compose.yaml"},
		Env:       map[string]string{"TAG": "option", "A": "option"},
		LookupEnv: mapEnv(process),
	})
	if err != nil {
		t.Fatal(err)
	}
	app := st.Service("app")
	if app.Image != "registry/app:option" {
		t.Errorf("image = %q, want Env to win over .env and process", app.Image)
	}
	want := map[string]string{
		"FROM_OPTION":  "option",
		"FROM_DOTENV":  "dotenv",
		"FROM_PROCESS": "process",
		"DEFAULTED":    "fallback",
		"BARE_DOTENV":  "dotenv-bare",
		"BARE_PROCESS": "process-bare",
		// BARE_UNSET has no value anywhere: dropped.
	}
	if !reflect.DeepEqual(app.Environment, want) {
		t.Errorf("environment =\n %v\nwant\n %v", app.Environment, want)
	}
}

func TestProjectDirDotEnvForInline(t *testing.T) {
	// Inline input reads .env from ProjectDir.
	st, err := Load(context.Background(), Options{
		Name:       "s",
		Inline:     "services:\n  app:\n    image: img:${TAG}\n",
		ProjectDir: "testdata/dotenv",
		LookupEnv:  noEnv,
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := st.Service("app").Image; got != "img:dotenv" {
		t.Errorf("image = %q, want img:dotenv", got)
	}
}

const profilesYAML = `
services:
  web:
    image: web
    depends_on: [db]
  db:
    image: db
  debug:
    image: debug
    profiles: [debug]
  tools:
    image: tools
    profiles: [tools, debug]
`

func TestProfiles(t *testing.T) {
	tests := []struct {
		profiles []string
		want     []string
	}{
		{nil, []string{"db", "web"}},
		{[]string{"tools"}, []string{"db", "tools", "web"}},
		{[]string{"debug"}, []string{"db", "debug", "tools", "web"}},
		{[]string{"*"}, []string{"db", "debug", "tools", "web"}},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.profiles, ","), func(t *testing.T) {
			st := mustLoad(t, profilesYAML, func(o *Options) { o.Profiles = tt.profiles })
			if got := serviceNames(st); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("services = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestServicesSubset(t *testing.T) {
	tests := []struct {
		name     string
		services []string
		want     []string
	}{
		{"dependencies not pulled in", []string{"web"}, []string{"web"}},
		{"several", []string{"web", "db"}, []string{"db", "web"}},
		{"profile-gated service is enabled when named", []string{"debug"}, []string{"debug"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := mustLoad(t, profilesYAML, func(o *Options) { o.Services = tt.services })
			if got := serviceNames(st); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("services = %v, want %v", got, tt.want)
			}
		})
	}
	t.Run("unknown", func(t *testing.T) {
		_, err := loadInline(t, profilesYAML, func(o *Options) { o.Services = []string{"web", "nope"} })
		wantError(t, err, "services", `service "nope" does not exist`, "known services: db, debug, tools, web")
	})
}

func TestSubsetKeepsHash(t *testing.T) {
	all := mustLoad(t, profilesYAML)
	sub := mustLoad(t, profilesYAML, func(o *Options) { o.Services = []string{"web"} })
	if all.Service("web").Hash != sub.Service("web").Hash {
		t.Error("selecting a subset changed the hash of web (depends_on must not count)")
	}
}

func TestXIncusImage(t *testing.T) {
	st := mustLoad(t, `
services:
  both:
    image: nginx:alpine
    x-incus:
      image: images:alpine/3.20
  only-ext:
    x-incus: {image: "images:debian/12"}
  plain:
    image: nginx:alpine
`)
	for name, want := range map[string]string{
		"both": "images:alpine/3.20", "only-ext": "images:debian/12", "plain": "nginx:alpine",
	} {
		if got := st.Service(name).Image; got != want {
			t.Errorf("%s: image = %q, want %q", name, got, want)
		}
	}
}

func TestServiceFields(t *testing.T) {
	st := mustLoad(t, `
services:
  app:
    image: app
    entrypoint: /bin/sh -c
    command: ["echo", "hi there"]
    environment:
      KEEP: "1"
      EMPTY: ""
      NOVALUE:
    labels:
      com.example.role: api
    healthcheck:
      test: curl -f http://localhost/
      interval: 10s
      retries: 5
  off:
    image: off
    healthcheck:
      test: ["CMD", "true"]
      disable: true
  none:
    image: none
    healthcheck:
      test: ["NONE"]
`)
	app := st.Service("app")
	if want := []string{"/bin/sh", "-c"}; !reflect.DeepEqual(app.Entrypoint, want) {
		t.Errorf("entrypoint = %q, want %q", app.Entrypoint, want)
	}
	if want := []string{"echo", "hi there"}; !reflect.DeepEqual(app.Command, want) {
		t.Errorf("command = %q, want %q", app.Command, want)
	}
	if want := map[string]string{"KEEP": "1", "EMPTY": ""}; !reflect.DeepEqual(app.Environment, want) {
		t.Errorf("environment = %v, want %v (nil values dropped, empty kept)", app.Environment, want)
	}
	if app.Labels["com.example.role"] != "api" {
		t.Errorf("labels = %v", app.Labels)
	}
	wantHC := &model.Healthcheck{
		Test:     []string{"CMD-SHELL", "curl -f http://localhost/"},
		Interval: 10e9, Timeout: 30e9, Retries: 5,
	}
	if !reflect.DeepEqual(app.Healthcheck, wantHC) {
		t.Errorf("healthcheck = %+v, want %+v", app.Healthcheck, wantHC)
	}
	// Disabled, not nil: nil runs the image's own HEALTHCHECK.
	for _, name := range []string{"off", "none"} {
		if hc := st.Service(name).Healthcheck; hc == nil || !hc.Disabled || len(hc.Test) != 0 {
			t.Errorf("%s: disabled healthcheck = %+v, want Disabled and no test", name, hc)
		}
	}
}

func TestFilesDefaultProjectDir(t *testing.T) {
	// .env is found next to the first file when ProjectDir is empty.
	abs, _ := filepath.Abs("testdata/dotenv/compose.yaml")
	st, err := Load(context.Background(), Options{Name: "s", Files: []string{abs}, LookupEnv: noEnv})
	if err != nil {
		t.Fatal(err)
	}
	if got := st.Service("app").Image; got != "registry/app:dotenv" {
		t.Errorf("image = %q", got)
	}
}
